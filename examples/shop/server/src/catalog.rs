//! `products.*`: the catalogue (the [`Products`] trait on the database), with `products.get`
//! behind a cache.
//!
//! The cache (moka) holds each product for a TTL and coalesces concurrent misses: a hundred
//! simultaneous `products.get` calls for one cold id cause one query. `products.update` and a
//! checkout invalidate the entries they changed after their transaction commits, here and, through
//! the `shop.products` topic (Redis Streams with `REDIS_URL`), on every other instance
//! ([`Catalog::follow_invalidations`]). When that topic cannot be followed (Redis down), each
//! instance empties its cache once it can again; the TTL (default 30 s) bounds staleness meanwhile.

use std::time::Duration;

use accord::{Cx, FrameworkCode, RpcError};
use accord_server::topics::{Topic, TopicError, Topics};
use futures_util::StreamExt;
use moka::future::Cache;
use sea_query::{Expr, ExprTrait, Func, LikeExpr, Order, Query, SelectStatement};
use shop_api::{Product, ProductError, ProductId, ProductPage, ProductPatch, ProductQuery, Products};

use crate::db::schema::Products as P;
use crate::db::{Count, Database, DbError, Queries, now_ms, to_i53, to_u32};

/// The page size when a query sets none.
pub const DEFAULT_LIMIT: u32 = 20;

/// A product row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ProductRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price_cents: i64,
    pub stock: i64,
    pub updated_at_ms: i64,
}

impl ProductRow {
    const COLUMNS: [P; 7] = [P::Id, P::Name, P::Description, P::Category, P::PriceCents, P::Stock, P::UpdatedAtMs];

    fn to_wire(&self) -> Result<Product, DbError> {
        Ok(Product {
            id: to_u32(self.id, "products.id")?,
            name: self.name.clone(),
            description: self.description.clone(),
            category: self.category.clone(),
            price_cents: to_u32(self.price_cents, "products.price_cents")?,
            stock: to_u32(self.stock, "products.stock")?,
            updated_at_ms: to_i53(self.updated_at_ms, "products.updated_at_ms")?,
        })
    }
}

/// Why a product could not be loaded into the cache (errors are not cached).
#[derive(Debug)]
enum Load {
    NotFound,
    Db(DbError),
}

/// Implements [`Products`].
#[derive(Clone, Debug)]
pub struct Catalog {
    db: Database,
    cache: Cache<u32, Product>,
    /// Ids of products that changed, for every instance's cache.
    invalidations: Topic<Vec<u32>>,
}

/// The topic product invalidations go through.
pub const INVALIDATIONS: &str = "shop.products";

impl Catalog {
    pub fn new(db: Database, ttl: Duration, topics: &Topics) -> Result<Self, TopicError> {
        let cache = Cache::builder().max_capacity(10_000).time_to_live(ttl).build();
        Ok(Self { db, cache, invalidations: topics.topic(INVALIDATIONS)? })
    }

    /// Drops the cached products other instances (and this one) changed, for as long as the
    /// task runs; after any interruption (Redis down), the whole cache, since changes may have
    /// been missed.
    pub async fn follow_invalidations(self) {
        let mut delay = Duration::from_millis(100);
        loop {
            match self.invalidations.subscribe_after(None).await {
                Ok(changes) => {
                    // Whatever changed before this subscription (or while not following) is unknown.
                    self.cache.invalidate_all();
                    delay = Duration::from_millis(100);
                    let mut changes = std::pin::pin!(changes);
                    while let Some(change) = changes.next().await {
                        match change {
                            Ok(ids) => {
                                for id in ids.value {
                                    self.cache.invalidate(&id).await;
                                }
                            }
                            Err(error) if error.is_events_missed() => self.cache.invalidate_all(),
                            Err(_) => break,
                        }
                    }
                }
                Err(error) => tracing::debug!(%error, "cannot follow product invalidations yet"),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }

    async fn load(&self, cx: &Cx, id: u32) -> Result<Product, Load> {
        let select = Query::select()
            .columns(ProductRow::COLUMNS)
            .from(P::Table)
            .and_where(Expr::col(P::Id).eq(i64::from(id)))
            .to_owned();
        let mut conn = self.db.conn(cx).await.map_err(Load::Db)?;
        let row = conn.fetch_optional::<ProductRow>(&select).await.map_err(Load::Db)?;
        row.ok_or(Load::NotFound)?.to_wire().map_err(Load::Db)
    }

    /// Drops cached products whose stock or price changed elsewhere (e.g. by a checkout), here
    /// at once and on every instance through the invalidations topic.
    pub async fn forget(&self, ids: impl IntoIterator<Item = u32>) {
        let ids: Vec<u32> = ids.into_iter().collect();
        for id in &ids {
            self.cache.invalidate(id).await;
        }
        if let Err(error) = self.invalidations.publish(ids).await {
            tracing::warn!(%error, "could not tell other instances to drop changed products; their cache TTL bounds it");
        }
    }
}

/// The `WHERE` of `products.list`, shared by its count and its page.
fn filtered(query: &ProductQuery) -> SelectStatement {
    let mut select = Query::select().from(P::Table).to_owned();
    if let Some(search) = query.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        // `name_lower` is lower-cased in Rust, so matching is identical on SQLite and PostgreSQL.
        let escaped: String = search.to_lowercase().chars().fold(String::new(), |mut out, c| {
            if matches!(c, '%' | '_' | '\\') {
                out.push('\\');
            }
            out.push(c);
            out
        });
        select.and_where(Expr::col(P::NameLower).like(LikeExpr::new(format!("%{escaped}%")).escape('\\')));
    }
    if let Some(category) = &query.category {
        select.and_where(Expr::col(P::Category).eq(category.as_str()));
    }
    if query.in_stock_only {
        select.and_where(Expr::col(P::Stock).gt(0));
    }
    select
}

impl Products for Catalog {
    async fn list(&self, cx: &Cx, query: ProductQuery) -> Result<ProductPage, ProductError> {
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        let count = filtered(&query).expr_as(Func::count(Expr::col(P::Id)), "n").to_owned();
        let page = filtered(&query)
            .columns(ProductRow::COLUMNS)
            .order_by(P::Name, Order::Asc)
            .order_by(P::Id, Order::Asc)
            .limit(u64::from(limit))
            .offset(u64::from(query.offset))
            .to_owned();
        let mut conn = self.db.conn(cx).await?;
        let total = conn.fetch_one::<Count>(&count).await?.n;
        let rows = conn.fetch_all::<ProductRow>(&page).await?;
        let items = rows.iter().map(ProductRow::to_wire).collect::<Result<_, _>>()?;
        Ok(ProductPage { items, total: to_u32(total, "product count")?, offset: query.offset, limit })
    }

    async fn get(&self, cx: &Cx, input: ProductId) -> Result<Product, ProductError> {
        let loaded = self.cache.try_get_with(input.id, self.load(cx, input.id)).await;
        // A failed load is shared by every caller that waited for it: each gets the same answer.
        loaded.map_err(|error| match &*error {
            Load::NotFound => ProductError::NotFound { id: input.id },
            Load::Db(error) => ProductError::Rpc(error.to_rpc()),
        })
    }

    async fn update(&self, cx: &Cx, patch: ProductPatch) -> Result<Product, ProductError> {
        if !cx.require_identity()?.has_role("admin") {
            return Err(ProductError::Rpc(RpcError::framework(FrameworkCode::Forbidden, "only admins edit products")));
        }
        let mut update = Query::update().table(P::Table).value(P::UpdatedAtMs, now_ms()).to_owned();
        if let Some(name) = &patch.name {
            update.value(P::Name, name.as_str()).value(P::NameLower, name.to_lowercase());
        }
        if let Some(description) = &patch.description {
            update.value(P::Description, description.as_str());
        }
        if let Some(price) = patch.price_cents {
            update.value(P::PriceCents, i64::from(price));
        }
        if let Some(stock) = patch.stock {
            update.value(P::Stock, i64::from(stock));
        }
        update
            .and_where(Expr::col(P::Id).eq(i64::from(patch.id)))
            .returning(Query::returning().columns(ProductRow::COLUMNS));
        let mut tx = self.db.begin().await?;
        let row = tx.fetch_optional::<ProductRow>(&update).await?;
        tx.commit().await?;
        // After the commit, so later loads read the new row. A load that read the old row just
        // before the commit can still land in the cache; the TTL bounds how long it stays.
        self.forget([patch.id]).await;
        Ok(row.ok_or(ProductError::NotFound { id: patch.id })?.to_wire()?)
    }
}
