//! The caller of one request: the bearer token read by the HTTP handler, resolved to a
//! [`Viewer`] at most once, and only if a resolver asks.
use tokio::sync::OnceCell;

use crate::{
    cache::request::{self as reads, Reads},
    error::{AppError, AppResult},
    users::{UserService, Viewer},
};

use crate::auth::Jwt;

/// What the `Authorization` header said.
enum Credentials {
    None,
    Malformed,
    Bearer(String),
}

/// Per-request authentication state, put into the GraphQL request's data.
pub struct RequestAuth {
    credentials: Credentials,
    /// The caller, with the cache entries it was resolved from.
    viewer: OnceCell<(Viewer, Reads)>,
}

impl std::fmt::Debug for RequestAuth {
    /// Never the token itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let credentials = match self.credentials {
            Credentials::None => "none",
            Credentials::Malformed => "malformed",
            Credentials::Bearer(_) => "bearer [redacted]",
        };
        f.debug_struct("RequestAuth")
            .field("credentials", &credentials)
            .field("viewer", &self.viewer.get().map(|(v, _)| v.id()))
            .finish()
    }
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
    ///
    /// Resolved once; every call records the entries it was resolved from into the calling
    /// request's record, so a response built on the caller depends on them wherever the caller
    /// was first resolved (and one that never asks for the caller does not).
    pub async fn viewer(&self, jwt: &Jwt, users: &UserService) -> AppResult<&Viewer> {
        let (viewer, read) = self
            .viewer
            // Boxed: resolving is done once per request, but its future is large, and inline it
            // would be built and copied by every call, including those that find it resolved.
            .get_or_try_init(|| {
                Box::pin(async {
                    let (viewer, mut read) = reads::capture(self.resolve(jwt, users)).await;
                    // Who asked is not what the response is about: `Cache-Tag` does not name it,
                    // whether its entry was read or loaded.
                    read.unnamed = read.deps.iter().map(|(key, _)| key.clone()).collect();
                    read.named.clear();
                    viewer.map(|v| (v, read))
                })
            })
            .await?;
        reads::replay(read);
        Ok(viewer)
    }

    async fn resolve(&self, jwt: &Jwt, users: &UserService) -> AppResult<Viewer> {
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
        // Verified once per token, then remembered until it expires (`Jwt::subject`).
        users.viewer(jwt.subject(token)?).await
    }
}
