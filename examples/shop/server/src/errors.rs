//! Turning data-layer failures into each namespace's typed error: the `Rpc` variant, with only
//! the external message (details are logged by [`DbError::to_rpc`]).

use shop_api::{AuthError, OrderError, ProductError};

use crate::db::DbError;

macro_rules! from_db_error {
    ($($error:ty),*) => {$(
        impl From<DbError> for $error {
            fn from(error: DbError) -> Self {
                <$error>::Rpc(error.to_rpc())
            }
        }
    )*};
}

from_db_error!(AuthError, ProductError, OrderError);
