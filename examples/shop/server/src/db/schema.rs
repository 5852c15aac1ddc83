//! Table and column names for sea-query, one enum per table (see `migrations/`).

use sea_query::Iden;

#[derive(Iden, Clone, Copy)]
pub enum Users {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    IsAdmin,
    CreatedAtMs,
}

#[derive(Iden, Clone, Copy)]
pub enum Sessions {
    Table,
    TokenHash,
    UserId,
    ExpiresAtMs,
}

#[derive(Iden, Clone, Copy)]
pub enum Products {
    Table,
    Id,
    Name,
    NameLower,
    Description,
    Category,
    PriceCents,
    Stock,
    UpdatedAtMs,
}

#[derive(Iden, Clone, Copy)]
pub enum Orders {
    Table,
    Id,
    UserId,
    Status,
    TotalCents,
    CreatedAtMs,
    UpdatedAtMs,
}

#[derive(Iden, Clone, Copy)]
pub enum OrderItems {
    Table,
    OrderId,
    ProductId,
    Quantity,
    UnitPriceCents,
}

#[derive(Iden, Clone, Copy)]
pub enum IdempotencyKeys {
    Table,
    UserId,
    Key,
    RequestHash,
    OrderId,
    CreatedAtMs,
}
