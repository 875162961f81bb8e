//! Authentication settings: the token key and lifetime, and the first admin.
use std::time::Duration;

use super::{
    ConfigError, Secret,
    env::{Env, invalid},
};

/// Tokens and the first admin.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// `JWT_SECRET`: HS256 key; `None` means one is generated per start.
    pub jwt_secret: Option<Secret>,
    /// `JWT_TTL`: token lifetime.
    pub jwt_ttl: Duration,
    /// `ADMIN_EMAIL`: the admin created when none exists.
    pub admin_email: String,
    /// `ADMIN_PASSWORD`: its password; `None` means a random one is generated and logged once.
    pub admin_password: Option<Secret>,
}

impl AuthSettings {
    pub(super) fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let admin_email = env
            .get("ADMIN_EMAIL")
            .unwrap_or_else(|| "admin@example.com".into())
            .to_lowercase();
        if !crate::domain::is_valid_email(&admin_email) {
            return Err(invalid(
                "ADMIN_EMAIL",
                format!("`{admin_email}` is not an email address"),
            ));
        }
        let admin_password = env.get("ADMIN_PASSWORD").map(Secret::new);
        if admin_password
            .as_ref()
            .is_some_and(|p| p.expose().chars().count() < 8)
        {
            return Err(invalid("ADMIN_PASSWORD", "must be at least 8 characters"));
        }
        let jwt_secret = env.get("JWT_SECRET").map(Secret::new);
        if jwt_secret.as_ref().is_some_and(|s| s.expose().len() < 16) {
            return Err(invalid("JWT_SECRET", "must be at least 16 bytes"));
        }
        Ok(Self {
            jwt_secret,
            jwt_ttl: env.secs("JWT_TTL", 3600)?,
            admin_email,
            admin_password,
        })
    }
}
