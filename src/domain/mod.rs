//! The domain, at the bottom of the crate: what a user is (`User`, `Role`), who is asking
//! (`Viewer`), and the inputs of the user mutations with their checks. It depends on nothing
//! but the error type its checks return, so the database, the cache, the service, auth and
//! GraphQL can all build on it without cycles.
pub mod validate;

pub use validate::is_valid_email;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user as the API and the cache see it: never the password hash.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub full_name: String,
    pub is_active: bool,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The row version, incremented by every update.
    pub version: i64,
}

/// What a user may do.
#[derive(async_graphql::Enum, Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads users; changes only its own email, name and password.
    User,
    /// Everything.
    Admin,
}

impl Role {
    /// The value stored in the `role` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    /// The role a `role` column value stands for.
    pub fn from_column(value: &str) -> Self {
        if value == "admin" {
            Role::Admin
        } else {
            Role::User
        }
    }
}

/// The authenticated caller of a request: its user as the (cached) database says now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub user: User,
}

impl Viewer {
    /// The caller's id.
    pub fn id(&self) -> i64 {
        self.user.id
    }

    /// Whether the caller is an admin.
    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }
}

/// Input of `createUser`, unvalidated.
#[derive(Clone, Debug)]
pub struct CreateUser {
    pub email: String,
    pub full_name: String,
    pub password: String,
    pub role: Role,
    pub is_active: bool,
}

/// Input of `updateUser`, unvalidated; `None` leaves a field alone.
#[derive(Clone, Debug, Default)]
pub struct UpdateUser {
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub password: Option<String>,
    pub is_active: Option<bool>,
    pub role: Option<Role>,
}
