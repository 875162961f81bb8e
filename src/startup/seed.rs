//! What start-up writes: the first admin, when none exists. Its generated password is logged
//! once, at the one moment it can be known; `cachegraph admin set-password` sets another.
use rand::{Rng, distr::Alphanumeric};

use super::StartError;
use crate::AppState;

/// `len` random letters and digits.
pub(super) fn random_secret(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Creates `ADMIN_EMAIL` as an admin when no admin exists; says so when `ADMIN_PASSWORD` is set
/// but not used.
pub(super) async fn admin(state: &AppState) -> Result<(), StartError> {
    let config = &state.config;
    let users = &state.users;
    let (password, generated) = match &config.auth.admin_password {
        Some(p) => (p.expose().to_owned(), false),
        None => (random_secret(24), true),
    };
    let created = users
        .bootstrap_admin(&config.auth.admin_email, &password)
        .await
        .map_err(StartError::Bootstrap)?;
    if created && generated {
        // Logged once, at the one moment it can be known; set ADMIN_PASSWORD to avoid this.
        tracing::warn!(email = %config.auth.admin_email, password = %password, "created the admin user with a generated password");
    } else if created {
        tracing::info!(email = %config.auth.admin_email, "created the admin user");
    }
    if !created && config.auth.admin_password.is_some() {
        tracing::info!(
            email = %config.auth.admin_email,
            "ADMIN_PASSWORD is set but not used: an admin already exists (to change a password, run `cachegraph admin set-password EMAIL`)"
        );
    }
    Ok(())
}
