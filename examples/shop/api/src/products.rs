//! `products.*`: the catalogue.

use accord::{Cx, I53, RpcError};

/// A product in the catalogue.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Product {
    pub id: u32,
    pub name: String,
    pub description: String,
    pub category: String,
    /// The price in cents.
    pub price_cents: u32,
    /// Units that can still be ordered.
    pub stock: u32,
    /// When the product last changed.
    pub updated_at_ms: I53,
}

/// Input of `products.list`: every filter is optional.
#[accord::wire]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProductQuery {
    /// Case-insensitive substring of the name.
    #[serde(default)]
    #[garde(length(chars, max = 100), pattern(r"^[^\x00]*$"))]
    pub search: Option<String>,
    /// Exact category.
    #[serde(default)]
    #[garde(length(chars, max = 100), pattern(r"^[^\x00]*$"))]
    pub category: Option<String>,
    /// Only products with stock left.
    #[serde(default)]
    pub in_stock_only: bool,
    /// How many matches to skip (default 0).
    #[serde(default)]
    pub offset: u32,
    /// Page size, 1 to 100 (default 20).
    #[serde(default)]
    #[garde(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

/// One page of `products.list`, ordered by name then id.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct ProductPage {
    pub items: Vec<Product>,
    /// Matches over all pages.
    pub total: u32,
    pub offset: u32,
    pub limit: u32,
}

/// Input of `products.get`.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct ProductId {
    pub id: u32,
}

/// Input of `products.update`: fields left out stay as they are.
#[accord::wire]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProductPatch {
    pub id: u32,
    #[serde(default)]
    #[garde(length(chars, min = 1, max = 200), pattern(r"^[^\x00]*$"))]
    pub name: Option<String>,
    #[serde(default)]
    #[garde(length(chars, max = 5000), pattern(r"^[^\x00]*$"))]
    pub description: Option<String>,
    #[serde(default)]
    pub price_cents: Option<u32>,
    #[serde(default)]
    pub stock: Option<u32>,
}

/// What can go wrong with a product.
#[accord::error]
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProductError {
    /// No product has this id.
    #[error("product {id} does not exist")]
    #[accord(code = 1404)]
    NotFound { id: u32 },
    /// A framework or transport error (`FORBIDDEN` for non-admins, ...).
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

/// The catalogue.
#[accord::procedures(namespace = "products")]
pub trait Products {
    /// Products matching the filters, one page at a time.
    #[query]
    async fn list(&self, cx: &Cx, input: ProductQuery) -> Result<ProductPage, ProductError>;

    /// One product (served from a short-lived cache).
    #[query]
    async fn get(&self, cx: &Cx, input: ProductId) -> Result<Product, ProductError>;

    /// Changes a product. Admins only (`FORBIDDEN` otherwise).
    #[mutation(authenticated)]
    async fn update(&self, cx: &Cx, input: ProductPatch) -> Result<Product, ProductError>;
}
