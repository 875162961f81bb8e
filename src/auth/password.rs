//! argon2id password hashes (argon2's defaults: m=19456, t=2, p=1), computed off the async
//! runtime because each takes tens of milliseconds.
use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};

use super::AuthError;

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AuthError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// The PHC string of a new argon2id hash of `password`, with a random salt.
pub async fn hash(password: String) -> Result<String, AuthError> {
    blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Hash(e.to_string()))
    })
    .await?
}

/// Whether `password` matches `phc`. With no hash (unknown user) it hashes the password
/// anyway, so that both cases cost the same time and answer `false`.
pub async fn verify(password: String, phc: Option<String>) -> Result<bool, AuthError> {
    blocking(move || match phc {
        Some(phc) => match PasswordHash::new(&phc) {
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        },
        None => {
            let _ = Argon2::default().hash_password(password.as_bytes());
            false
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hashes_verify() {
        let phc = super::hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(
            super::verify("correct horse".into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(
            !super::verify("wrong horse".into(), Some(phc))
                .await
                .unwrap()
        );
        assert!(!super::verify("x".into(), None).await.unwrap());
    }
}
