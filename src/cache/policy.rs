//! How a resolver's answer may be cached, declared once beside the resolver.
//!
//! A [`Policy`] says two things, and both halves are read from the same declaration:
//! * for the data: the tag its entries live under (one increment invalidates them all), their
//!   TTL and the kind they are counted as ([`Policy::load`] is the get-or-load of
//!   [`Cache::tagged`] under them);
//! * for the whole-response cache: the field's [`Scope`]. A response is kept only when *every*
//!   root field of it ran under a policy (see [`super::request`]): a resolver that declares none
//!   (every mutation, `login`, `cacheStats`) makes its response uncacheable by default, so a
//!   forgotten declaration costs a cache miss, never a wrong answer.
use std::{future::Future, time::Duration};

use serde::{Serialize, de::DeserializeOwned};

use super::{Cache, Kind};

/// Who a cached answer may be served to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The same answer for every caller allowed to ask (the field's guards still run, and a
    /// response that needed a caller is served only after the caller is checked again).
    Shared,
    /// The answer depends on who asked (`me`): kept per caller, served only to that caller.
    Caller,
}

/// A resolver's cache policy. Build one as a `const` beside the resolver:
///
/// ```
/// use cachegraph::cache::{Kind, policy::Policy};
/// /// `users(skip, limit)`: one page for every caller, dropped by any user write.
/// const USERS_PAGE: Policy = Policy::shared().tag("users").kind(Kind::LIST);
/// assert_eq!(USERS_PAGE.tag, Some("users"));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Who the answer may be served to.
    pub scope: Scope,
    /// The tag its entries are kept under, for [`Policy::load`]; entities cached by
    /// [`super::entity::EntityCache`] need none (they carry their own versions).
    pub tag: Option<&'static str>,
    /// How long its entries live at most; `CACHE_DEFAULT_TTL` when unset.
    pub ttl: Option<Duration>,
    /// What its lookups are counted as in `cacheStats` and `/metrics`.
    pub kind: Kind,
}

impl Policy {
    /// The same answer for every caller.
    pub const fn shared() -> Self {
        Self {
            scope: Scope::Shared,
            tag: None,
            ttl: None,
            kind: Kind::AGGREGATE,
        }
    }

    /// An answer that depends on the caller.
    pub const fn per_caller() -> Self {
        Self {
            scope: Scope::Caller,
            ..Self::shared()
        }
    }

    /// Entries kept under `tag`.
    pub const fn tag(self, tag: &'static str) -> Self {
        Self {
            tag: Some(tag),
            ..self
        }
    }

    /// Entries live at most `secs` seconds.
    pub const fn ttl_secs(self, secs: u64) -> Self {
        Self {
            ttl: Some(Duration::from_secs(secs)),
            ..self
        }
    }

    /// Lookups counted as `kind`.
    pub const fn kind(self, kind: Kind) -> Self {
        Self { kind, ..self }
    }

    /// Get-or-load of the entry `name` under this policy's tag and TTL ([`Cache::tagged`]; a
    /// per-caller policy should put the caller in `name`). Without a tag, `load` runs every
    /// time and the answer is not cacheable. `load` may run in the background (an early
    /// refresh), so it owns what it uses. A loaded value `keep` refuses is returned, not
    /// stored.
    pub async fn load<T, E, F, Fut>(
        &self,
        cache: &Cache,
        name: &str,
        keep: impl Fn(&T) -> bool + Send + 'static,
        load: F,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        E: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        match self.tag {
            Some(tag) => {
                cache
                    .tagged(self.kind, tag, name, self.ttl, keep, load)
                    .await
            }
            None => {
                cache.counted_miss(self.kind);
                load().await
            }
        }
    }
}
