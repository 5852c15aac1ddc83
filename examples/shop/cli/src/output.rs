//! How results are printed: short, aligned, money in dollars.

use shop_api::{Order, OrderPage, OrderStatus, Product, ProductPage, Session, User};

pub fn money(cents: u32) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

pub fn status(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Placed => "placed",
        OrderStatus::Paid => "paid",
        OrderStatus::Shipped => "shipped",
        OrderStatus::Delivered => "delivered",
    }
}

pub fn session(session: &Session) {
    println!("signed in as {} <{}>", session.user.name, session.user.email);
    println!("export SHOP_TOKEN={}", session.token);
}

pub fn user(user: &User) {
    let role = if user.is_admin { " (admin)" } else { "" };
    println!("#{} {} <{}>{role}", user.id, user.name, user.email);
}

fn product_line(product: &Product) -> String {
    format!(
        "#{:<6} {:<32} {:<10} {:>10}  {} in stock",
        product.id,
        product.name,
        product.category,
        money(product.price_cents),
        product.stock
    )
}

pub fn product(product: &Product) {
    println!("{}", product_line(product));
    println!("        {}", product.description);
}

pub fn product_page(page: &ProductPage) {
    if page.items.is_empty() {
        println!("no products match");
        return;
    }
    for product in &page.items {
        println!("{}", product_line(product));
    }
    let last = page.offset + u32::try_from(page.items.len()).unwrap_or(u32::MAX);
    println!("({}-{} of {})", page.offset + 1, last, page.total);
}

pub fn order(order: &Order) {
    println!("order #{} {} {}", order.id, status(order.status), money(order.total_cents));
    for item in &order.items {
        println!("  {} x {} at {}", item.quantity, item.product_name, money(item.unit_price_cents));
    }
}

pub fn order_page(page: &OrderPage) {
    if page.items.is_empty() {
        println!("no orders yet");
        return;
    }
    page.items.iter().for_each(order);
    println!("({} orders in all)", page.total);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_dollars_and_cents() {
        assert_eq!(money(0), "$0.00");
        assert_eq!(money(1999), "$19.99");
        assert_eq!(money(100_005), "$1000.05");
    }
}
