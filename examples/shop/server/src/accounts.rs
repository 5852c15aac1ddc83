//! `auth.*`: accounts and sessions (the [`Auth`] trait on the database).

use accord::{Cx, FrameworkCode, RpcError};
use sea_query::{Expr, ExprTrait, Query};
use shop_api::{Auth, AuthError, Credentials, NewAccount, Session, User};

use crate::db::schema::Users;
use crate::db::{Database, Queries, now_ms, to_i53, to_u32};
use crate::passwords::Passwords;
use crate::sessions::SessionStore;

/// A user row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub is_admin: bool,
}

impl UserRow {
    fn to_wire(&self) -> Result<User, AuthError> {
        Ok(User {
            id: to_u32(self.id, "users.id")?,
            email: self.email.clone(),
            name: self.name.clone(),
            is_admin: self.is_admin,
        })
    }

    pub(crate) fn select() -> sea_query::SelectStatement {
        Query::select()
            .columns([Users::Id, Users::Email, Users::Name, Users::PasswordHash, Users::IsAdmin])
            .from(Users::Table)
            .to_owned()
    }
}

/// The caller's user id (the identity's subject), or `UNAUTHENTICATED`.
pub fn user_id(cx: &Cx) -> Result<i64, RpcError> {
    let identity = cx.require_identity()?;
    identity
        .subject()
        .parse()
        .map_err(|_| RpcError::framework(FrameworkCode::Unauthenticated, "this identity is not a shop user"))
}

/// Implements [`Auth`].
#[derive(Clone, Debug)]
pub struct Accounts {
    db: Database,
    sessions: SessionStore,
    passwords: Passwords,
}

impl Accounts {
    pub fn new(db: Database, sessions: SessionStore, passwords: Passwords) -> Self {
        Self { db, sessions, passwords }
    }

    async fn session_for(&self, user: &UserRow) -> Result<Session, AuthError> {
        let mut conn = self.db.begin().await?;
        let (token, expires_at_ms) = self.sessions.issue(&mut conn, user.id).await?;
        conn.commit().await?;
        Ok(Session { token, user: user.to_wire()?, expires_at_ms: to_i53(expires_at_ms, "sessions.expires_at_ms")? })
    }
}

/// Emails are compared case-insensitively: stored and looked up in lower case.
fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Auth for Accounts {
    async fn login(&self, cx: &Cx, input: Credentials) -> Result<Session, AuthError> {
        let email = normalise_email(&input.email);
        let select = UserRow::select().and_where(Expr::col(Users::Email).eq(email)).to_owned();
        let user = self.db.conn(cx).await?.fetch_optional::<UserRow>(&select).await?;
        // The connection is back in the pool before the slow hash runs. Unknown emails are
        // checked against a decoy, so both failures take as long.
        let stored = user.as_ref().map(|user| user.password_hash.clone());
        match (user, self.passwords.verify(input.password, stored).await?) {
            (Some(user), true) => self.session_for(&user).await,
            _ => Err(AuthError::InvalidCredentials),
        }
    }

    async fn register(&self, _cx: &Cx, input: NewAccount) -> Result<Session, AuthError> {
        let email = normalise_email(&input.email);
        let password_hash = self.passwords.hash(input.password).await?;
        let insert = Query::insert()
            .into_table(Users::Table)
            .columns([Users::Email, Users::Name, Users::PasswordHash, Users::IsAdmin, Users::CreatedAtMs])
            .values_panic([
                email.clone().into(),
                input.name.trim().into(),
                password_hash.into(),
                false.into(),
                now_ms().into(),
            ])
            .returning(Query::returning().columns([
                Users::Id,
                Users::Email,
                Users::Name,
                Users::PasswordHash,
                Users::IsAdmin,
            ]))
            .to_owned();
        let mut tx = self.db.begin().await?;
        let user = match tx.fetch_one::<UserRow>(&insert).await {
            Ok(user) => user,
            Err(e) if e.is_unique_violation() => return Err(AuthError::EmailTaken { email }),
            Err(e) => return Err(e.into()),
        };
        let (token, expires_at_ms) = self.sessions.issue(&mut tx, user.id).await?;
        tx.commit().await?;
        Ok(Session { token, user: user.to_wire()?, expires_at_ms: to_i53(expires_at_ms, "sessions.expires_at_ms")? })
    }

    async fn me(&self, cx: &Cx) -> Result<User, AuthError> {
        let id = user_id(cx)?;
        let select = UserRow::select().and_where(Expr::col(Users::Id).eq(id)).to_owned();
        match self.db.conn(cx).await?.fetch_optional::<UserRow>(&select).await? {
            Some(user) => user.to_wire(),
            None => {
                Err(AuthError::Rpc(RpcError::framework(FrameworkCode::Unauthenticated, "the account no longer exists")))
            }
        }
    }

    async fn logout(&self, cx: &Cx) -> Result<(), AuthError> {
        let id = user_id(cx)?;
        let mut conn = self.db.conn(cx).await?;
        self.sessions.revoke_all(&mut conn, id).await?;
        Ok(())
    }
}
