//! Authentication: HS256 tokens, argon2id password hashes and login throttling. (The caller of
//! a request, resolved through the user service above this layer, is
//! `graphql::RequestAuth`.)
//!
//! A token only says who the caller *was* when it was issued. Every request that needs a caller
//! resolves it again through the (cached) user entry, so deleting or deactivating a user, or
//! changing a role, takes effect on their tokens at once.
mod jwt;
pub mod password;
mod throttle;
mod verified;

pub use jwt::{Claims, Jwt};
pub use throttle::{ClientAddr, LoginThrottle};

/// Errors of the auth layer.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token is malformed, badly signed, uses another algorithm, or has expired.
    #[error("invalid or expired token")]
    InvalidToken,
    /// The token could not be created.
    #[error("token encoding failed: {0}")]
    Encode(jsonwebtoken::errors::Error),
    /// Hashing failed, or its worker panicked.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl From<AuthError> for crate::error::AppError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::InvalidToken => Self::Unauthenticated("invalid or expired token".into()),
            other => Self::internal(other),
        }
    }
}
