//! Whole GraphQL responses, cached and invalidated exactly (`CACHE_RESPONSES`).
//!
//! A response is kept with the exact cache entries it was built from ([`super::request`]);
//! it is served again only while every one of those keys still holds that very entry, checked
//! in memory after L1's read barrier (or in the memory backend): with L1, in one comparison
//! while no invalidation has taken effect since the entries were last all seen held, in one
//! atomic read per key while none of *its* keys was invalidated since (`l1::checked`), else
//! entry by entry (`Tracked::still_holds`). With L1 a response expires when the oldest
//! entry it was built from would (`CACHE_L1_MAX_AGE_MS` after it was read); with the memory
//! backend that long after it was kept. Any change to a user, an
//! email pointer or a list generation replaces its entry, so every response that read it stops
//! being served: no TTL guesswork, no stale `null` for an id or email created later, no stale
//! page after a create or delete.
//!
//! *Rules.* Only responses without errors, of queries whose every root field was declared
//! with a cache policy ([`super::policy`]), built entirely from cache entries, are kept. Authentication is checked on every request: a
//! response that needed a caller is served only after the caller's token is verified and the
//! caller is still active, and one that depends on who asked (`me`) only to that caller.
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use moka::{Expiry, sync::Cache as Moka};

use super::{entry::Entry, l1::Checked, request::Reads};

/// A serialized response and what it was built from.
pub struct CachedResponse {
    /// The JSON body.
    pub body: Bytes,
    /// The `Cache-Control` value async-graphql computed for it.
    pub cache_control: Option<String>,
    /// The `Cache-Tag` value: the tags it was built from.
    pub cache_tag: Option<String>,
    /// (key, entry) pairs that must still be current.
    pub deps: Vec<(String, Arc<Entry>)>,
    /// Served only to this caller, when set.
    pub caller: Option<i64>,
    /// Needs an authenticated caller.
    pub authenticated: bool,
    /// Needs an admin (some field of it is admin-only).
    pub admin: bool,
    /// Built from a document with introspection: served only while `INTROSPECTION=on` (under
    /// another setting the request goes the whole way, where the setting is applied).
    pub introspection: bool,
    /// When its dependencies were last all seen current (`Cache::still_current` keeps it).
    pub checked: Checked,
    /// The earliest expiry (and its load cost, ms) its tagged entries record: early refresh
    /// draws on it when serving (see `cache::refresh`).
    pub soonest: Option<(u64, u64)>,
    /// Not served after this: its oldest entry's age limit (a response is no older than the
    /// entries it is built from may be).
    deadline: Instant,
}

/// A response's body and the headers kept with it.
pub struct Body {
    /// The JSON body.
    pub body: Bytes,
    /// The `Cache-Control` value async-graphql computed for it.
    pub cache_control: Option<String>,
    /// The `Cache-Tag` value: the tags it was built from.
    pub cache_tag: Option<String>,
}

/// Expires each response at its deadline.
struct AtDeadline;

impl Expiry<String, Arc<CachedResponse>> for AtDeadline {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Arc<CachedResponse>,
        now: Instant,
    ) -> Option<Duration> {
        Some(value.deadline.saturating_duration_since(now))
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Arc<CachedResponse>,
        now: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.deadline.saturating_duration_since(now))
    }
}

/// The key of a response that depends on `caller`.
fn per_caller(key: &str, caller: i64) -> String {
    format!("{key}\u{0}caller:{caller}")
}

/// Bytes counted per kept response beyond its key and body (the entry, its `Arc`, moka's node).
const ENTRY_BYTES: usize = 512;
/// Bytes counted per dependency beyond its key (the entry it must still match).
const DEP_BYTES: usize = 96;

/// The response cache of this process.
pub struct Responses {
    entries: Moka<String, Arc<CachedResponse>, foldhash::fast::RandomState>,
    served: AtomicU64,
    max_age: Duration,
    /// The age limit counts from when the oldest entry was read (L1), not from keeping.
    aged_by_entries: bool,
}

impl Responses {
    /// A cache of about `bytes` of bodies, none kept longer than `max_age`; with
    /// `aged_by_entries`, none served later than `max_age` after its oldest entry was read.
    pub fn new(bytes: u64, max_age: Duration, aged_by_entries: bool) -> Self {
        Self {
            entries: Moka::builder()
                .max_capacity(bytes)
                // Weighed by what an entry holds, not by its body alone: a flood of tiny
                // distinct responses must stay inside the bound too.
                .weigher(|k: &String, v: &Arc<CachedResponse>| {
                    let deps: usize = v.deps.iter().map(|(key, _)| key.len() + DEP_BYTES).sum();
                    (k.len() + v.body.len() + deps + ENTRY_BYTES)
                        .try_into()
                        .unwrap_or(u32::MAX)
                })
                .expire_after(AtDeadline)
                .build_with_hasher(foldhash::fast::RandomState::default()),
            served: AtomicU64::new(0),
            max_age,
            aged_by_entries,
        }
    }

    /// The response kept for `key`, or with `caller` the one kept for that caller (a response
    /// that depends on who asked is kept per caller, so callers never replace each other's).
    pub fn get(&self, key: &str, caller: Option<i64>) -> Option<Arc<CachedResponse>> {
        match caller {
            None => self.entries.get(key),
            Some(caller) => self.entries.get(&per_caller(key, caller)),
        }
    }

    /// Counts a response served from here.
    pub fn served(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
    }

    /// How many responses were served from here since start.
    pub fn served_count(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Forgets the response of `key` (and `caller`, as in [`Self::get`]): its dependencies
    /// changed.
    pub fn forget(&self, key: &str, caller: Option<i64>) {
        match caller {
            None => self.entries.invalidate(key),
            Some(caller) => self.entries.invalidate(&per_caller(key, caller)),
        }
    }

    /// Forgets every response built from a key `depends` says yes to; how many went.
    pub fn forget_where(&self, depends: impl Fn(&str) -> bool) -> u64 {
        let mut dropped = 0;
        for (key, response) in &self.entries {
            if response.deps.iter().any(|(dep, _)| depends(dep)) {
                self.entries.invalidate(key.as_str());
                dropped += 1;
            }
        }
        dropped
    }

    /// Keeps `body` for `key` (per caller when it depends on one) if `reads` allow it and
    /// cover every one of its `roots` (the keys of its data); returns whether it did.
    pub fn keep<'a>(
        &self,
        key: &str,
        Body {
            body,
            cache_control,
            cache_tag,
        }: Body,
        reads: Reads,
        roots: impl Iterator<Item = &'a str>,
        introspection: bool,
    ) -> bool {
        if reads.uncacheable || !reads.covers(roots) {
            return false;
        }
        let key = match reads.caller {
            Some(caller) => per_caller(key, caller),
            None => key.to_owned(),
        };
        let now = Instant::now();
        let oldest = match self.aged_by_entries {
            true => reads.deps.iter().map(|(_, entry)| entry.born()).min(),
            false => None,
        };
        let deadline = oldest.unwrap_or(now) + self.max_age;
        if deadline <= now {
            return false;
        }
        let soonest = reads
            .deps
            .iter()
            .filter_map(|(_, entry)| super::refresh::expiry(entry.raw()))
            .min();
        let response = CachedResponse {
            soonest,
            body,
            cache_control,
            cache_tag,
            checked: Checked::default(),
            deadline,
            deps: reads.deps,
            caller: reads.caller,
            authenticated: reads.authenticated,
            admin: reads.admin,
            introspection,
        };
        self.entries.insert(key, Arc::new(response));
        true
    }
}
