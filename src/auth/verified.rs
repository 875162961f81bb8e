//! Tokens verified already, so that a caller's every request does not decode, parse and check
//! its JWT again (it was a quarter of a cached read's instructions).
//!
//! *Invariant:* a token is answered from here only when the very same token (its SHA-256; the
//! token itself is not kept) passed [`super::Jwt::verify`] with this process's key, and only
//! until its `exp` passes, exactly as verification would judge it then. Once a token passed,
//! its signature and its `nbf` stay passed; its expiry is the one thing that changes with time
//! and is checked on every use. What the token names is still resolved on every request
//! through the caller's user entry, so a deleted, deactivated or demoted user is refused at
//! once, whatever is remembered here. The memo is bounded in entries and lives with one key:
//! a new secret means a new [`super::Jwt`], and nothing verified under the old one.
use std::time::Duration;

use moka::sync::Cache;
use sha2::{Digest, Sha256};

/// Tokens remembered at most: each costs about 200 bytes with the cache's own bookkeeping, so
/// the memo stays under ~13 MB however many callers there are (an evicted token is only
/// verified again).
pub const VERIFIED_TOKENS: u64 = 65_536;

/// What a verified token said that outlives its verification.
#[derive(Clone, Copy)]
struct Verified {
    /// The user id of `sub`.
    subject: i64,
    /// `exp`, in seconds since the epoch.
    expires: u64,
}

/// The memo of verified tokens.
pub struct VerifiedTokens {
    tokens: Cache<[u8; 32], Verified, foldhash::fast::RandomState>,
}

impl VerifiedTokens {
    /// A memo of at most `capacity` tokens, none kept longer than `lifetime` (the longest a
    /// token we issue lives).
    pub fn new(capacity: u64, lifetime: Duration) -> Self {
        Self {
            tokens: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(lifetime.max(Duration::from_secs(1)))
                .build_with_hasher(foldhash::fast::RandomState::default()),
        }
    }

    /// The token's digest, the key it is remembered under.
    pub fn digest(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The subject of the token with `digest`, when it was verified and has not expired since
    /// (a token is valid through the second of its `exp`, as `jsonwebtoken` with no leeway).
    pub fn subject(&self, digest: &[u8; 32]) -> Option<i64> {
        let verified = self.tokens.get(digest)?;
        // The clock verification itself reads.
        if verified.expires < jsonwebtoken::get_current_timestamp() {
            self.tokens.invalidate(digest);
            return None;
        }
        Some(verified.subject)
    }

    /// Remembers that the token with `digest` verified, naming `subject` until `expires`.
    pub fn remember(&self, digest: [u8; 32], subject: i64, expires: i64) {
        let Ok(expires) = u64::try_from(expires) else {
            return;
        };
        self.tokens.insert(digest, Verified { subject, expires });
    }
}
