//! `auth.*`: accounts and sessions.

use accord::{Cx, I53, RpcError};

/// A shop user, as other users and the user themself see it.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: u32,
    pub email: String,
    pub name: String,
    /// Admins may edit the catalogue (`products.update`).
    pub is_admin: bool,
}

/// Input of `auth.login`.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Credentials {
    #[garde(length(chars, min = 3, max = 254), pattern(r"^[^\x00]*$"))]
    pub email: String,
    #[garde(length(chars, min = 1, max = 200), pattern(r"^[^\x00]*$"))]
    pub password: String,
}

/// Input of `auth.register`.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct NewAccount {
    /// An email address; compared case-insensitively.
    #[garde(email, length(chars, max = 254), pattern(r"^[^\x00]*$"))]
    pub email: String,
    /// A display name, 1 to 100 characters.
    #[garde(length(chars, min = 1, max = 100), pattern(r"^[^\x00]*$"))]
    pub name: String,
    /// 8 to 200 characters.
    #[garde(length(chars, min = 8, max = 200), pattern(r"^[^\x00]*$"))]
    pub password: String,
}

/// A signed-in session: send `token` as `Authorization: Bearer <token>`.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// The bearer token. Only its hash is stored on the server.
    pub token: String,
    pub user: User,
    /// When the token stops working.
    pub expires_at_ms: I53,
}

/// What can go wrong signing in or up.
#[accord::error]
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AuthError {
    /// The email is unknown or the password is wrong (deliberately not saying which).
    #[error("wrong email or password")]
    #[accord(code = 1401)]
    InvalidCredentials,
    /// An account with this email exists already.
    #[error("an account with {email} exists already")]
    #[accord(code = 1409)]
    EmailTaken { email: String },
    /// A framework or transport error (`UNAUTHENTICATED`, `RATE_LIMITED`, ...).
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

/// Accounts and sessions.
#[accord::procedures(namespace = "auth")]
pub trait Auth {
    /// Signs in with email and password; returns a bearer token. Strictly rate-limited per
    /// client address.
    #[mutation]
    async fn login(&self, cx: &Cx, input: Credentials) -> Result<Session, AuthError>;

    /// Creates an account and signs it in.
    #[mutation]
    async fn register(&self, cx: &Cx, input: NewAccount) -> Result<Session, AuthError>;

    /// The signed-in user.
    #[query(authenticated)]
    async fn me(&self, cx: &Cx) -> Result<User, AuthError>;

    /// Signs the user out everywhere: every token of theirs stops working.
    #[mutation(authenticated)]
    async fn logout(&self, cx: &Cx) -> Result<(), AuthError>;
}
