//! The caller of one request: the bearer token read by the HTTP handler, resolved to a
//! [`Viewer`] at most once, and only if a resolver asks.
use tokio::sync::OnceCell;

use crate::{
    error::{AppError, AppResult},
    users::{UserService, Viewer},
};

use super::Jwt;

/// What the `Authorization` header said.
#[derive(Debug)]
enum Credentials {
    None,
    Malformed,
    Bearer(String),
}

/// Per-request authentication state, put into the GraphQL request's data.
#[derive(Debug)]
pub struct RequestAuth {
    credentials: Credentials,
    viewer: OnceCell<Viewer>,
}

impl RequestAuth {
    /// From the raw `Authorization` header value, if any.
    pub fn from_header(header: Option<&[u8]>) -> Self {
        let credentials = match header {
            None => Credentials::None,
            Some(raw) => match std::str::from_utf8(raw).ok().and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_owned())
            }) {
                Some(token) if !token.is_empty() => Credentials::Bearer(token),
                _ => Credentials::Malformed,
            },
        };
        Self {
            credentials,
            viewer: OnceCell::new(),
        }
    }

    /// Whether the request carries a bearer token (valid or not).
    pub fn has_bearer(&self) -> bool {
        matches!(self.credentials, Credentials::Bearer(_))
    }

    /// The authenticated caller: the token verified, and its user still present and active.
    pub async fn viewer(&self, jwt: &Jwt, users: &UserService) -> AppResult<&Viewer> {
        self.viewer
            .get_or_try_init(|| async {
                let token = match &self.credentials {
                    Credentials::Bearer(token) => token,
                    Credentials::None => {
                        return Err(AppError::Unauthenticated("authentication required".into()));
                    }
                    Credentials::Malformed => {
                        return Err(AppError::Unauthenticated(
                            "expected `Authorization: Bearer <token>`".into(),
                        ));
                    }
                };
                let claims = jwt.verify(token)?;
                let id = claims
                    .sub
                    .parse::<i64>()
                    .map_err(|_| AppError::Unauthenticated("invalid or expired token".into()))?;
                users.viewer(id).await
            })
            .await
    }
}
