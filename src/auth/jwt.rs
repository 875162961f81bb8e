//! HS256 JWTs: issued by `login`, checked on every authenticated request.
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{
    AuthError,
    verified::{VERIFIED_TOKENS, VerifiedTokens},
};
use crate::domain::User;

/// The claims we sign: the user id as a string, its role at issue time, issue and expiry times.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signing and verifying keys with a validation pinned to HS256, and the tokens verified
/// with them already.
pub struct Jwt {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    verified: VerifiedTokens,
}

impl Jwt {
    /// Keys from the UTF-8 bytes of `secret`; tokens live for `ttl`.
    pub fn new(secret: &str, ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        // A token is not valid before its `nbf`, when it has one (ours do not).
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            ttl,
            verified: VerifiedTokens::new(VERIFIED_TOKENS, ttl),
        }
    }

    /// Token lifetime in seconds.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl.as_secs() as i64
    }

    /// A token for `user`.
    pub fn issue(&self, user: &User) -> Result<String, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user.id.to_string(),
            role: user.role.as_str().to_owned(),
            iat: now,
            exp: now + self.ttl_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AuthError::Encode)
    }

    /// The claims of a valid, unexpired HS256 token signed with our key.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| AuthError::InvalidToken)
    }

    /// The user id a valid, unexpired token of ours names: [`Jwt::verify`] once per token,
    /// then remembered by the token's digest until it expires (see `verified`).
    pub fn subject(&self, token: &str) -> Result<i64, AuthError> {
        let digest = VerifiedTokens::digest(token);
        if let Some(subject) = self.verified.subject(&digest) {
            return Ok(subject);
        }
        let claims = self.verify(token)?;
        let subject = claims
            .sub
            .parse::<i64>()
            .map_err(|_| AuthError::InvalidToken)?;
        self.verified.remember(digest, subject, claims.exp);
        Ok(subject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn user() -> User {
        User {
            id: 7,
            email: "a@b.co".into(),
            full_name: "A".into(),
            is_active: true,
            role: Role::Admin,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            version: 1,
        }
    }

    #[test]
    fn round_trip_and_rejections() {
        let jwt = Jwt::new("0123456789abcdef-secret", Duration::from_secs(60));
        let token = jwt.issue(&user()).unwrap();
        let claims = jwt.verify(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.role.as_str()), ("7", "admin"));
        assert_eq!(claims.exp - claims.iat, 60);

        let other = Jwt::new("another-secret-of-16+", Duration::from_secs(60));
        assert!(other.verify(&token).is_err(), "bad signature");
        let now = chrono::Utc::now().timestamp();
        let stale = Claims {
            exp: now - 1,
            iat: now - 61,
            ..claims.clone()
        };
        let old = jsonwebtoken::encode(&Header::default(), &stale, &jwt.encoding).unwrap();
        assert!(jwt.verify(&old).is_err(), "expired");
        // alg: none, with our claims
        let none = format!(
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
            token.split('.').nth(1).unwrap()
        );
        assert!(jwt.verify(&none).is_err(), "alg none");
    }

    #[test]
    fn a_token_is_not_valid_before_its_nbf() {
        let jwt = Jwt::new("0123456789abcdef-secret", Duration::from_secs(600));
        let now = chrono::Utc::now().timestamp();
        let claims = |nbf: i64| serde_json::json!({ "sub": "7", "role": "user", "iat": now, "exp": now + 600, "nbf": nbf });
        let sign =
            |nbf| jsonwebtoken::encode(&Header::default(), &claims(nbf), &jwt.encoding).unwrap();
        assert!(jwt.verify(&sign(now + 300)).is_err(), "not yet valid");
        assert!(jwt.verify(&sign(now - 1)).is_ok());
    }

    #[test]
    fn a_verified_token_is_remembered_only_as_itself_and_until_it_expires() {
        let jwt = Jwt::new("0123456789abcdef-secret", Duration::from_secs(600));
        let token = jwt.issue(&user()).unwrap();
        assert_eq!(jwt.subject(&token).unwrap(), 7);
        let digest = VerifiedTokens::digest(&token);
        assert_eq!(jwt.verified.subject(&digest), Some(7), "remembered");
        assert_eq!(jwt.subject(&token).unwrap(), 7, "answered from the memo");

        // The same claims under another signature, or the token cut short, are other tokens.
        let mut forged = token.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert!(jwt.subject(&forged).is_err(), "changed signature");
        assert!(jwt.subject(&token[..token.len() - 1]).is_err(), "truncated");
        let other = Jwt::new("another-secret-of-16+", Duration::from_secs(600));
        assert!(
            other.subject(&token).is_err(),
            "another key remembers nothing"
        );

        // Expiry is judged on every use, as verification judges it.
        let now = chrono::Utc::now().timestamp();
        let memo = VerifiedTokens::new(10, Duration::from_secs(600));
        memo.remember([1; 32], 5, now + 60);
        memo.remember([2; 32], 6, now - 1);
        assert_eq!(memo.subject(&[1; 32]), Some(5));
        assert_eq!(
            memo.subject(&[2; 32]),
            None,
            "expired since it was verified"
        );
        assert_eq!(memo.subject(&[3; 32]), None, "never verified");
    }
}
