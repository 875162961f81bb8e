//! How values are laid out in the cache, and the invariants the layout lets us keep.
//!
//! Three kinds of entries live under `CACHE_PREFIX`:
//!
//! * **Versioned entries** (`user:{id}`): `{"v":<version>,"d":<user or null>}`. `version` is the
//!   row's `version` column, which the database increments in the statement of every update.
//!   Entries are only ever written with *set-if-newer* (a Lua script on Redis, `and_compute_with`
//!   in memory): a write with a version `<=` the stored one is dropped. `null` with version 0
//!   caches "no such id" briefly; `null` with [`TOMBSTONE`] marks a deleted user.
//!   *Invariant:* once the cache holds version `n` of a user it never goes back to a version
//!   `< n`, so a reader that loaded an old row and fills late (the "stale set"), two writers
//!   reaching the cache out of order, and a command fred retries or delivers after we gave up on
//!   it can none of them replace a newer value with an older one.
//! * **Pointers** (`email:{email}`): the id of the user who had that email when it was written.
//!   A pointer is a hint, never an answer: the user entry it leads to must still have that email,
//!   or the lookup is a miss. So a pointer left behind by an email change, or written late by a
//!   slow reader, cannot serve a wrong user. Misses by email are not cached at all.
//! * **Tagged entries** (`{tag}:…`, e.g. lists and `userStats`):
//!   `{"g":<generation>,"x":<expires at, ms>,"c":<compute ms>,"d":<json>}` (`x` and `c` drive
//!   early refresh, see [`super::refresh`]).
//!   A tag's generation lives at `{tag}:gen`; a reader reads it together with the entry (one
//!   MGET; the `{tag}` hash tag keeps both in one cluster slot) and uses the entry only when the
//!   generations are equal. Every write commits to the database first and then increments the
//!   generation, and a reader reads the generation before it loads from the database.
//!   *Invariant:* an entry tagged `g` reflects every write whose increment returned `<= g`;
//!   after a write returns, no reader uses anything loaded before its commit. Invalidating all
//!   lists is one `INCR`, whatever their number: no `KEYS`, no scan.
//!
//! When a write cannot reach the cache (Redis down, paused, timed out), the keys it should have
//! written are remembered and the cache is not used by this instance again until they have been
//! repaired from the database (see [`super::health`]).
//!
//! # The guarantee, and the interleavings it rules out
//!
//! After a mutation returns, every read through any instance returns that value or a newer one
//! while Redis is reachable; when it is not, reads go to the database, never to stale data.
//! `docs/consistency.md` states the limits; `tests/api/consistency.rs` proves each case.
//!
//! 1. *Stale set* (reader loads v1, writer commits v2 and writes through, reader fills v1):
//!    the fill is dropped by set-if-newer; a list fill is stamped with the old generation and
//!    never matches again.
//! 2. *Write during an outage*: the write records what it owed and opens the breaker; the
//!    prober repairs every owed key from the database before the breaker closes.
//! 3. *Writers out of order*: versions come from the database's single `UPDATE`, so the later
//!    commit has the higher version and set-if-newer keeps it whatever the arrival order.
//! 4. *Stampede*: `Cache::miss` (in `load.rs`) shares one load among the requests of a process that
//!    miss a key at the same fence, and a short Redis lease keeps other processes waiting
//!    briefly for that fill instead of loading.
//! 5. *Several instances*: all state that decides what is served lives in Redis (versions,
//!    generations, leases); the only in-process state is the single-flight table, whose
//!    sharing is fenced by generation or by this process's write epoch.
//! 6. *Commands that outlive their caller* (fred retries or delivers a fill or write-through
//!    after our timeout): every such command is a set-if-newer, a generation increment, a
//!    stamped tagged fill or a pointer write, none of which can make a newer value older.

/// The version of a deleted user's tombstone: larger than any real version (2^53 - 1 fits the
/// doubles Lua compares with).
pub const TOMBSTONE: u64 = (1 << 53) - 1;
/// The version of a cached "no user with this id".
pub const ABSENT: u64 = 0;

/// Encodes a versioned entry.
pub fn versioned(version: u64, data_json: &str) -> String {
    format!("{{\"v\":{version},\"d\":{data_json}}}")
}

/// Encodes a tagged entry: `expires_ms` (milliseconds since the Unix epoch) and `cost_ms`
/// (how long its value took to compute) are what early refresh decides by.
pub fn tagged(generation: u64, expires_ms: u64, cost_ms: u64, data_json: &str) -> String {
    format!("{{\"g\":{generation},\"x\":{expires_ms},\"c\":{cost_ms},\"d\":{data_json}}}")
}

/// The number of `field` in an encoded value's header (the fields before `"d"`).
pub fn header_number(encoded: &str, field: &str) -> Option<u64> {
    let header = &encoded[..encoded.find(",\"d\":")?];
    // `,"<field>":` found without building it: this runs on every tagged hit.
    let start = header
        .match_indices(",\"")
        .map(|(at, _)| at + 2)
        .find(|&at| {
            header[at..]
                .strip_prefix(field)
                .is_some_and(|rest| rest.starts_with("\":"))
        })?
        + field.len()
        + 2;
    let rest = &header[start..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The number in an encoded value's leading `{"<field>":N`.
pub fn leading_number(encoded: &str, field: &str) -> Option<u64> {
    let rest = encoded
        .strip_prefix("{\"")?
        .strip_prefix(field)?
        .strip_prefix("\":")?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

/// The `d` part of an encoded value.
pub fn data(encoded: &str) -> Option<&str> {
    let start = encoded.find(",\"d\":")? + 5;
    encoded.get(start..encoded.len().checked_sub(1)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let v = versioned(42, r#"{"id":1,"email":"a,\"d\":b"}"#);
        assert_eq!(leading_number(&v, "v"), Some(42));
        assert_eq!(leading_number(&v, "g"), None);
        assert_eq!(data(&v), Some(r#"{"id":1,"email":"a,\"d\":b"}"#));
        let t = tagged(1_732_000_000_000_000, 1_764_000_000_000, 12, "[1,2]");
        assert_eq!(leading_number(&t, "g"), Some(1_732_000_000_000_000));
        assert_eq!(header_number(&t, "x"), Some(1_764_000_000_000));
        assert_eq!(header_number(&t, "c"), Some(12));
        assert_eq!(header_number(&t, "d"), None);
        assert_eq!(header_number(r#"{"g":1,"d":{"x":5}}"#, "x"), None);
        assert_eq!(data(&t), Some("[1,2]"));
        assert_eq!(data(&versioned(TOMBSTONE, "null")), Some("null"));
        assert_eq!(leading_number("garbage", "v"), None);
    }
}
