//! The service's error type and its one mapping to GraphQL `extensions.code`.
//!
//! Resolvers return [`AppError`]; converting it into an `async_graphql::Error` is the only place
//! where codes are chosen and where internal causes are logged and replaced by a generic message.
//! (async-graphql's `custom-error-conversion` feature is on, so `?` cannot turn an arbitrary
//! error's text into a client message by accident.)
use std::borrow::Cow;

/// Everything a request can fail with. Each variant says what the client sees.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// `UNAUTHENTICATED`: no token, a bad or expired one, a revoked user, or a wrong login.
    #[error("{0}")]
    Unauthenticated(Cow<'static, str>),
    /// `FORBIDDEN`: authenticated but not allowed.
    #[error("{0}")]
    Forbidden(Cow<'static, str>),
    /// `BAD_USER_INPUT`: an argument is invalid; `field` names it.
    #[error("invalid {field}: {message}")]
    BadInput {
        /// The argument or input field at fault, as named in the schema.
        field: &'static str,
        /// Why it is invalid.
        message: Cow<'static, str>,
    },
    /// `NOT_FOUND`: the object to change does not exist.
    #[error("{0}")]
    NotFound(Cow<'static, str>),
    /// `CONFLICT`: a unique value (the email) is taken.
    #[error("{0}")]
    Conflict(Cow<'static, str>),
    /// `TOO_MANY_REQUESTS`, with `extensions.retryAfter` in seconds: throttled (repeated failed
    /// logins, or every password-hashing slot busy).
    #[error("too many attempts; retry in {retry_after} s")]
    TooManyRequests {
        /// Seconds until an attempt can succeed.
        retry_after: u64,
    },
    /// `INTERNAL_SERVER_ERROR`: the client sees a generic message; the cause is logged.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// A `BAD_USER_INPUT` error for `field`.
    pub fn bad_input(field: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::BadInput {
            field,
            message: message.into(),
        }
    }

    /// An internal error wrapping its cause.
    pub fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(cause))
    }

    /// The `extensions.code` this error is reported with.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::BadInput { .. } => "BAD_USER_INPUT",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict(_) => "CONFLICT",
            Self::TooManyRequests { .. } => "TOO_MANY_REQUESTS",
            Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }
}

impl From<crate::domain::validate::InputError> for AppError {
    fn from(err: crate::domain::validate::InputError) -> Self {
        Self::BadInput {
            field: err.field,
            message: err.message,
        }
    }
}

impl From<crate::db::DbError> for AppError {
    fn from(err: crate::db::DbError) -> Self {
        match err {
            crate::db::DbError::EmailTaken => Self::Conflict("email already taken".into()),
            other => Self::internal(other),
        }
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let code = err.code();
        let message = match &err {
            AppError::Internal(cause) => {
                tracing::error!(error = %cause, source = ?cause.source(), "internal error");
                "internal server error".to_owned()
            }
            other => other.to_string(),
        };
        let mut gql = async_graphql::Error::new(message);
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", code);
        match &err {
            AppError::BadInput { field, .. } => ext.set("field", *field),
            AppError::TooManyRequests { retry_after } => ext.set("retryAfter", *retry_after),
            _ => {}
        }
        gql.extensions = Some(ext);
        gql
    }
}

/// The result type of resolvers and services.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(err: AppError) -> (String, String) {
        let gql: async_graphql::Error = err.into();
        let code = gql
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .map(|v| v.to_string())
            .unwrap_or_default();
        (code, gql.message)
    }

    #[test]
    fn each_variant_maps_to_its_code() {
        let cases = [
            (AppError::Unauthenticated("no".into()), "UNAUTHENTICATED"),
            (AppError::Forbidden("no".into()), "FORBIDDEN"),
            (AppError::bad_input("email", "bad"), "BAD_USER_INPUT"),
            (AppError::NotFound("no".into()), "NOT_FOUND"),
            (AppError::Conflict("no".into()), "CONFLICT"),
            (
                AppError::TooManyRequests { retry_after: 3 },
                "TOO_MANY_REQUESTS",
            ),
            (
                AppError::internal(std::io::Error::other("disk on fire")),
                "INTERNAL_SERVER_ERROR",
            ),
        ];
        for (err, code) in cases {
            assert_eq!(code_of(err).0, format!("\"{code}\""));
        }
    }

    #[test]
    fn internal_causes_never_reach_the_client() {
        let (_, message) = code_of(AppError::internal(std::io::Error::other(
            "password=secret at 10.0.0.1",
        )));
        assert_eq!(message, "internal server error");
    }

    #[test]
    fn bad_input_names_the_field() {
        let gql: async_graphql::Error = AppError::bad_input("limit", "must be 1 to 1000").into();
        assert_eq!(gql.message, "invalid limit: must be 1 to 1000");
        let field = gql.extensions.unwrap().get("field").unwrap().to_string();
        assert_eq!(field, "\"limit\"");
    }

    #[test]
    fn throttling_says_when_to_retry() {
        let gql: async_graphql::Error = AppError::TooManyRequests { retry_after: 4 }.into();
        let retry = gql
            .extensions
            .unwrap()
            .get("retryAfter")
            .unwrap()
            .to_string();
        assert_eq!(retry, "4");
    }
}
