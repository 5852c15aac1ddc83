-- The shop schema (SQLite). Integers are 64-bit; times are milliseconds since the Unix epoch.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    is_admin      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms BIGINT  NOT NULL
);

CREATE TABLE sessions (
    token_hash    TEXT    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    expires_at_ms BIGINT  NOT NULL
);

CREATE TABLE products (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    -- Lower-cased in Rust, so that search is case-insensitive the same way on every database.
    name_lower    TEXT    NOT NULL,
    description   TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    price_cents   BIGINT  NOT NULL CHECK (price_cents >= 0),
    stock         BIGINT  NOT NULL CHECK (stock >= 0),
    updated_at_ms BIGINT  NOT NULL
);
CREATE INDEX products_by_name ON products (name, id);
CREATE INDEX products_by_category ON products (category, name, id);

CREATE TABLE orders (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    status        TEXT    NOT NULL,
    total_cents   BIGINT  NOT NULL,
    created_at_ms BIGINT  NOT NULL,
    updated_at_ms BIGINT  NOT NULL
);
CREATE INDEX orders_by_user ON orders (user_id, id);
CREATE INDEX orders_by_status ON orders (status, updated_at_ms);

CREATE TABLE order_items (
    order_id         INTEGER NOT NULL REFERENCES orders (id),
    product_id       INTEGER NOT NULL REFERENCES products (id),
    quantity         BIGINT  NOT NULL,
    unit_price_cents BIGINT  NOT NULL,
    PRIMARY KEY (order_id, product_id)
);

CREATE TABLE idempotency_keys (
    user_id       INTEGER NOT NULL REFERENCES users (id),
    key           TEXT    NOT NULL,
    request_hash  TEXT    NOT NULL,
    order_id      INTEGER NOT NULL REFERENCES orders (id),
    created_at_ms BIGINT  NOT NULL,
    PRIMARY KEY (user_id, key)
);
