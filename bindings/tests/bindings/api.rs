//! Small APIs defined with the real macros, as an API crate would.

#![allow(dead_code)]

use accord::{Cx, I53, RpcError, Stream};

/// A book on the shelf.
#[accord::wire]
pub struct Book {
    pub id: u32,
    pub title: String,
    /// How many pages, when known.
    pub pages: Option<u32>,
    pub added_ms: I53,
}

#[accord::wire]
pub struct BookId {
    pub id: u32,
}

/// Input of `shelf.add`.
#[accord::wire]
pub struct NewBook {
    /// Any title.
    pub title: String,
    #[serde(default)]
    pub pages: Option<u32>,
}

/// What can go wrong on the shelf.
#[accord::error]
#[derive(Debug, thiserror::Error)]
pub enum ShelfError {
    /// No book has this id.
    #[error("no book {id}")]
    #[accord(code = 1404)]
    NotFound { id: u32 },
    #[error("the shelf is full")]
    Full,
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

/// A shelf of books.
#[accord::procedures(namespace = "shelf")]
pub trait Shelf {
    /// Fetch one book.
    #[query]
    async fn get(&self, cx: &Cx, input: BookId) -> Result<Book, ShelfError>;

    #[query]
    async fn all_books(&self, cx: &Cx) -> Result<Vec<Book>, ShelfError>;

    /// Add a book.
    ///
    /// Titles need not be unique.
    #[mutation]
    async fn add(&self, cx: &Cx, input: NewBook) -> Result<Book, ShelfError>;

    /// Books as they are added.
    #[subscription]
    async fn added(&self, cx: &Cx) -> Result<Stream<Book, ShelfError>, ShelfError>;
}

#[accord::error]
#[derive(Debug, thiserror::Error)]
pub enum LoanError {
    /// Someone has it.
    #[error("lent out")]
    LentOut,
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

/// Lending books.
#[accord::procedures(namespace = "loans")]
pub trait Loans {
    /// Lend a book.
    #[mutation]
    async fn lend(&self, cx: &Cx, input: BookId) -> Result<Book, LoanError>;
    /// Take a book back; taking it back twice changes nothing.
    #[mutation(idempotent)]
    async fn take_back(&self, cx: &Cx, input: BookId) -> Result<Book, LoanError>;
    /// Books as they come back; resumable after a reconnect.
    #[subscription]
    async fn returned(&self, cx: &Cx) -> Result<Stream<accord::Tracked<Book>, LoanError>, LoanError>;
}

/// Two Rust types that both want the TypeScript name `Item`.
pub mod clash {
    use super::*;

    pub mod a {
        #[accord::wire]
        pub struct Item {
            pub a: u32,
        }
    }

    pub mod b {
        #[accord::wire]
        pub struct Item {
            pub b: String,
        }
    }

    #[accord::procedures(namespace = "clash")]
    pub trait Clash {
        #[query]
        async fn first(&self, cx: &Cx) -> Result<a::Item, LoanError>;
        #[query]
        async fn second(&self, cx: &Cx) -> Result<b::Item, LoanError>;
    }
}

/// A 64-bit integer that `#[accord::wire]` cannot see through an alias.
pub mod big {
    use super::*;

    pub type Big = i64;

    #[accord::wire]
    pub struct Counter {
        pub value: Big,
    }

    #[accord::procedures(namespace = "counters")]
    pub trait Counters {
        #[query]
        async fn read(&self, cx: &Cx) -> Result<Counter, LoanError>;
    }
}

/// An input that is not an object with named fields. `#[accord::procedures]` refuses such an
/// input at compile time; this one claims to be an object by hand, so that generation (the second
/// line of defence) can be seen refusing it.
pub mod shapes {
    use super::*;

    #[accord::wire]
    #[serde(tag = "kind", rename_all = "camelCase")]
    pub enum Shape {
        Circle { radius: u32 },
        Square { side: u32 },
    }

    impl accord::InputObject for Shape {}

    #[accord::procedures(namespace = "shapes")]
    pub trait Shapes {
        #[query]
        async fn area(&self, cx: &Cx, input: Shape) -> Result<u32, LoanError>;
    }
}

/// The next version of the shelf, as `bindings diff` sees it: `Book.pages` removed (optional,
/// so a warning for old clients), `NewBook.isbn` added as required (breaking for old clients),
/// `shelf.allBooks` deprecated, `Book.addedMs` and `NewBook.pages` deprecated, `shelf.count` added.
pub mod shelf_v2 {
    use super::*;

    /// A book on the shelf.
    #[accord::wire]
    pub struct Book {
        pub id: u32,
        pub title: String,
        /// When it was added.
        #[deprecated(note = "use the audit log")]
        pub added_ms: I53,
    }

    /// Input of `shelf.add`.
    #[accord::wire]
    pub struct NewBook {
        /// Any title.
        pub title: String,
        #[deprecated]
        #[serde(default)]
        pub pages: Option<u32>,
        pub isbn: String,
    }

    /// A shelf of books.
    #[accord::procedures(namespace = "shelf")]
    pub trait Shelf {
        /// Fetch one book.
        #[query]
        async fn get(&self, cx: &Cx, input: BookId) -> Result<Book, ShelfError>;

        #[deprecated(note = "page through shelf.get")]
        #[query]
        async fn all_books(&self, cx: &Cx) -> Result<Vec<Book>, ShelfError>;

        /// Add a book.
        ///
        /// Titles need not be unique.
        #[mutation]
        async fn add(&self, cx: &Cx, input: NewBook) -> Result<Book, ShelfError>;

        /// Books as they are added.
        #[subscription]
        async fn added(&self, cx: &Cx) -> Result<Stream<Book, ShelfError>, ShelfError>;

        /// How many books there are.
        #[query]
        async fn count(&self, cx: &Cx) -> Result<u32, ShelfError>;
    }
}
