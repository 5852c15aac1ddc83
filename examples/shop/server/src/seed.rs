//! Demo data: a few users, thousands of products and orders, enough that an N+1 query pattern
//! would show. Deterministic (a fixed pseudo-random sequence), so every fresh database looks
//! the same.
//!
//! Users: `ada@example.com` (admin) and `bob@example.com`, plus `user<N>@example.com`, all with
//! the password `password123`.

use sea_query::{Expr, Func, Query};

use crate::db::schema::{OrderItems, Orders, Products, Users};
use crate::db::{Count, Database, DbError, Queries, Tx, now_ms};
use crate::passwords;

/// The password of every seeded user.
pub const DEMO_PASSWORD: &str = "password123";

/// How much to seed.
#[derive(Clone, Copy, Debug)]
pub struct SeedSize {
    pub users: u32,
    pub products: u32,
    pub orders: u32,
}

impl Default for SeedSize {
    fn default() -> Self {
        Self { users: 50, products: 5000, orders: 4000 }
    }
}

/// Rows per `INSERT` (well under both databases' bind-parameter limits).
const CHUNK: usize = 500;

const ADJECTIVES: &[&str] =
    &["Amber", "Brass", "Cedar", "Copper", "Linen", "Marble", "Nordic", "Oak", "Rustic", "Slate", "Velvet", "Walnut"];
/// Each kind of product with its category.
const NOUNS: &[(&str, &str)] = &[
    ("Lamp", "lighting"),
    ("Lantern", "lighting"),
    ("Chair", "seating"),
    ("Stool", "seating"),
    ("Bench", "seating"),
    ("Table", "tables"),
    ("Desk", "tables"),
    ("Shelf", "storage"),
    ("Cabinet", "storage"),
    ("Rug", "decor"),
    ("Mirror", "decor"),
    ("Vase", "decor"),
];

/// A small linear congruential generator: reproducible data without a dependency.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }

    fn pick(&mut self, len: usize) -> usize {
        usize::try_from(self.next(len as u64)).unwrap_or(0)
    }
}

/// Whether the database has no users yet.
pub async fn is_empty(db: &Database) -> Result<bool, DbError> {
    let count = Query::select().expr_as(Func::count(Expr::col(Users::Id)), "n").from(Users::Table).to_owned();
    Ok(db.read().await?.fetch_one::<Count>(&count).await?.n == 0)
}

/// Fills an empty database. The password is hashed once and shared by the demo users.
pub async fn seed(db: &Database, size: SeedSize) -> Result<(), DbError> {
    let hash = tokio::task::spawn_blocking(|| passwords::hash_now(DEMO_PASSWORD))
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or(DbError::OutOfRange("hashing the demo password failed"))?;
    let now = now_ms();
    let mut random = Sequence(42);
    let mut tx = db.begin().await?;
    let user_ids = seed_users(&mut tx, size.users.max(2), &hash, now).await?;
    let products = seed_products(&mut tx, size.products.max(1), &mut random, now).await?;
    seed_orders(&mut tx, size.orders, &user_ids, &products, &mut random, now).await?;
    tx.commit().await?;
    db.analyze().await
}

#[derive(sqlx::FromRow)]
struct Id {
    id: i64,
}

async fn seed_users(tx: &mut Tx, count: u32, hash: &str, now: i64) -> Result<Vec<i64>, DbError> {
    let named = [("ada@example.com", "Ada Lovelace", true), ("bob@example.com", "Bob Builder", false)];
    let users: Vec<(String, String, bool)> = named
        .into_iter()
        .map(|(email, name, admin)| (email.to_owned(), name.to_owned(), admin))
        .chain((3..=count).map(|i| (format!("user{i}@example.com"), format!("User {i}"), false)))
        .collect();
    let mut ids = Vec::with_capacity(users.len());
    for chunk in users.chunks(CHUNK) {
        let mut insert = Query::insert()
            .into_table(Users::Table)
            .columns([Users::Email, Users::Name, Users::PasswordHash, Users::IsAdmin, Users::CreatedAtMs])
            .returning_col(Users::Id)
            .to_owned();
        for (email, name, admin) in chunk {
            insert.values_panic([email.into(), name.into(), hash.into(), (*admin).into(), now.into()]);
        }
        ids.extend(tx.fetch_all::<Id>(&insert).await?.into_iter().map(|row| row.id));
    }
    Ok(ids)
}

/// A seeded product: id and price.
struct Seeded {
    id: i64,
    price_cents: i64,
}

#[derive(sqlx::FromRow)]
struct ProductId {
    id: i64,
    price_cents: i64,
}

async fn seed_products(tx: &mut Tx, count: u32, random: &mut Sequence, now: i64) -> Result<Vec<Seeded>, DbError> {
    let mut seeded = Vec::with_capacity(count as usize);
    let numbers: Vec<u32> = (1..=count).collect();
    for chunk in numbers.chunks(CHUNK) {
        let mut insert = Query::insert()
            .into_table(Products::Table)
            .columns([
                Products::Name,
                Products::NameLower,
                Products::Description,
                Products::Category,
                Products::PriceCents,
                Products::Stock,
                Products::UpdatedAtMs,
            ])
            .returning(Query::returning().columns([Products::Id, Products::PriceCents]))
            .to_owned();
        for &i in chunk {
            let (noun, category) = NOUNS[random.pick(NOUNS.len())];
            let name = format!("{} {noun} No. {i}", ADJECTIVES[random.pick(ADJECTIVES.len())]);
            let description = format!("A {} for the home, made to last.", noun.to_lowercase());
            insert.values_panic([
                name.clone().into(),
                name.to_lowercase().into(),
                description.into(),
                category.into(),
                (500 + random.next(50_000) as i64).into(),
                (20 + random.next(200) as i64).into(),
                now.into(),
            ]);
        }
        let rows = tx.fetch_all::<ProductId>(&insert).await?;
        seeded.extend(rows.into_iter().map(|row| Seeded { id: row.id, price_cents: row.price_cents }));
    }
    Ok(seeded)
}

/// Delivered orders spread over the past, 1 to 4 items each. Each order gets a distinct
/// creation time, which is how the returned ids are matched to their items.
async fn seed_orders(
    tx: &mut Tx,
    count: u32,
    users: &[i64],
    products: &[Seeded],
    random: &mut Sequence,
    now: i64,
) -> Result<(), DbError> {
    #[derive(sqlx::FromRow)]
    struct Placed {
        id: i64,
        created_at_ms: i64,
    }
    let numbers: Vec<u32> = (0..count).collect();
    for chunk in numbers.chunks(CHUNK) {
        let mut lines_by_time = std::collections::HashMap::new();
        let mut insert = Query::insert()
            .into_table(Orders::Table)
            .columns([Orders::UserId, Orders::Status, Orders::TotalCents, Orders::CreatedAtMs, Orders::UpdatedAtMs])
            .returning(Query::returning().columns([Orders::Id, Orders::CreatedAtMs]))
            .to_owned();
        for &n in chunk {
            let created = now - 60_000 * (i64::from(n) + 1);
            let mut lines: Vec<(i64, i64, i64)> = Vec::new();
            for _ in 0..=random.pick(4).min(3) {
                let product = &products[random.pick(products.len())];
                if lines.iter().all(|(id, _, _)| *id != product.id) {
                    lines.push((product.id, 1 + random.next(3) as i64, product.price_cents));
                }
            }
            let total: i64 = lines.iter().map(|(_, quantity, price)| quantity * price).sum();
            let user = users[random.pick(users.len())];
            insert.values_panic([user.into(), "delivered".into(), total.into(), created.into(), created.into()]);
            lines_by_time.insert(created, lines);
        }
        let placed = tx.fetch_all::<Placed>(&insert).await?;
        let mut items = Query::insert()
            .into_table(OrderItems::Table)
            .columns([OrderItems::OrderId, OrderItems::ProductId, OrderItems::Quantity, OrderItems::UnitPriceCents])
            .to_owned();
        for order in placed {
            for (product, quantity, price) in lines_by_time.remove(&order.created_at_ms).unwrap_or_default() {
                items.values_panic([order.id.into(), product.into(), quantity.into(), price.into()]);
            }
        }
        tx.execute(&items).await?;
    }
    Ok(())
}
