//! [`BindingsError`]: why bindings could not be generated, written or checked.

use std::path::PathBuf;

/// Why bindings could not be generated, written or checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BindingsError {
    /// Two distinct Rust types would be exported under the same TypeScript name.
    #[error(
        "two Rust types want the TypeScript name `{name}`: `{first}` and `{second}`; \
         rename one of them (e.g. `#[serde(rename = \"...\")]`)"
    )]
    NameClash {
        /// The TypeScript name.
        name: String,
        /// The Rust type that claimed it first.
        first: String,
        /// The other Rust type.
        second: String,
    },

    /// A wire type uses a 64-bit integer, which a JavaScript number cannot hold exactly.
    #[error(
        "{item} contains a 64-bit integer (`i64`, `u64`, `i128`, `u128`, `isize` or `usize`), \
         which JavaScript numbers cannot represent exactly; use `accord::I53` (±(2^53 − 1), a \
         `number` in TypeScript) or a string"
    )]
    LargeInteger {
        /// Where it was found, e.g. ``the type `Order` (`shop::Order`), used by `shop.get` ``.
        item: String,
    },

    /// Two procedures of the given descriptions have the same wire method name.
    #[error("the wire method `{name}` is defined twice: by `{first}` and by `{second}`")]
    DuplicateMethod {
        /// The wire method name (`namespace.method`).
        name: String,
        /// The trait that defines it first.
        first: String,
        /// The trait that defines it again.
        second: String,
    },

    /// The OpenRPC document could not be built (e.g. an input that is not an object with
    /// named fields).
    #[error(transparent)]
    OpenRpc(#[from] accord::openrpc::OpenRpcError),

    /// The output directory holds files but none of the generated ones: it is probably not a
    /// bindings directory, and writing would delete those files.
    #[error(
        "refusing to write into {}: it holds other files ({}) but no generated bindings; \
         the output directory is owned by the generator, choose an empty or new one",
        path.display(),
        files.join(", ")
    )]
    ForeignDirectory {
        /// The directory.
        path: PathBuf,
        /// The files found in it.
        files: Vec<String>,
    },

    /// Reading or writing a file or directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl BindingsError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| BindingsError::Io { path, source }
    }
}
