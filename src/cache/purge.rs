//! Invalidation by hand (`invalidateEntity`, `invalidateTag`, `invalidateType`): for what
//! changed behind the API's back (a migration, a fix made in the database), counted in what
//! was dropped.
//!
//! A hard purge deletes entity entries or moves a tag's generation on, exactly as a write
//! does: no instance serves what was purged once the call returns (other instances' L1 and
//! kept responses drop through client tracking). A *soft* purge of a tag moves the
//! generation on too, and records it at `{tag}:soft`: while the generation is still that one,
//! an entry of the generation just before may be served **once more**, to the one request that
//! takes the mark (deletes it while it still names that generation, in one step in the store:
//! one request of every instance, under any key of the tag) and refreshes that entry; every
//! other request misses, as after a hard purge. A later write that moves the tag moves the
//! generation past the mark, and then nothing from before is served. Mutations never purge
//! softly: the guarantee after a write is untouched.
//!
//! A purge counts what it dropped: the entries stamped with the generation it moved past (not
//! the dead ones of earlier generations, not leases), and the responses this instance kept.
use super::{Cache, CacheError, glob, protocol, store::Store, ttl};

/// What a purge dropped: entries in the cache, and responses kept by this instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub entries: u64,
    pub responses: u64,
}

/// Why a purge could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    /// No entity type of that name is cached.
    #[error("no cached entity type `{0}`")]
    UnknownType(String),
    /// A tag must be 1 to 100 letters, digits, `-` or `_`.
    #[error("a tag is 1 to 100 letters, digits, `-` or `_`")]
    BadTag,
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl Cache {
    /// Drops entity `kind` `id`'s entry (its pointers are checked against it, and stay).
    pub async fn purge_entity(&self, kind: &str, id: i64) -> Result<Purged, PurgeError> {
        self.registered(kind)?;
        let key = self.key(format_args!("{kind}:{id}"));
        let store = self.writable()?;
        let held = store.get(&key).await?.is_some();
        store.delete(&[&key]).await?;
        self.advance_epoch();
        Ok(Purged {
            entries: held.into(),
            responses: self.forget_responses(|dep| dep == key),
        })
    }

    /// Drops every entry under `tag` (one increment), or with `soft` lets one of them be served
    /// once more while it is refreshed (see the module).
    pub async fn purge_tag(&self, tag: &str, soft: bool) -> Result<Purged, PurgeError> {
        let valid = !tag.is_empty()
            && tag.len() <= 100
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(PurgeError::BadTag);
        }
        let store = self.writable()?;
        let under = self.key(format_args!("{{{tag}}}:"));
        let pattern = format!("{}*", glob::escape(&under));
        // What this purge drops: the entries stamped with the generation it moves past (older
        // ones were dropped already; the generation, the soft mark and leases are no entries).
        // Read from the store itself: a purge's own reads are no response's dependencies.
        let current = store
            .get(&self.gen_key(tag))
            .await?
            .and_then(|g| g.raw().parse::<u64>().ok());
        let entries = match current {
            Some(current) => {
                store
                    .count_where(&pattern, |_, raw| {
                        protocol::leading_number(raw, "g") == Some(current)
                    })
                    .await?
            }
            None => 0,
        };
        let generation = self.generation(tag, true).await?;
        if soft {
            let mark = generation.to_string();
            store
                .set(&self.soft_key(tag), &mark, ttl::GENERATION)
                .await?;
        }
        self.advance_epoch();
        Ok(Purged {
            entries,
            responses: self.forget_responses(|dep| dep.starts_with(&under)),
        })
    }

    /// Drops every entry of entity type `kind` and its pointers, and every entry under its
    /// tags.
    pub async fn purge_type(&self, kind: &str) -> Result<Purged, PurgeError> {
        let (pointers, tags) = self.registered(kind)?;
        let store = self.writable()?;
        let mut purged = Purged::default();
        for part in std::iter::once(kind).chain(pointers.iter().copied()) {
            let prefix = self.key(format_args!("{part}:"));
            let pattern = format!("{}*", glob::escape(&prefix));
            if part == kind {
                // Entries and tombstones count; the fill leases beside them (keys alone tell)
                // go with them but do not.
                let leases = store
                    .count(&format!("{}*:lease", glob::escape(&prefix)))
                    .await?;
                purged.entries += store.clear(&pattern).await?.saturating_sub(leases);
            } else {
                store.clear(&pattern).await?;
            }
            purged.responses += self.forget_responses(|dep| dep.starts_with(&prefix));
        }
        for tag in tags {
            let by_tag = self.purge_tag(tag, false).await?;
            purged.entries += by_tag.entries;
            purged.responses += by_tag.responses;
        }
        self.advance_epoch();
        Ok(purged)
    }

    /// The key of `tag`'s soft-purge mark.
    pub(super) fn soft_key(&self, tag: &str) -> String {
        self.key(format_args!("{{{tag}}}:soft"))
    }

    fn writable(&self) -> Result<&super::store::Stores, CacheError> {
        if !self.can_write() {
            return Err(CacheError::Unavailable);
        }
        self.store()
    }

    fn registered(
        &self,
        kind: &str,
    ) -> Result<(Vec<&'static str>, &'static [&'static str]), PurgeError> {
        let kinds = self.inner.kinds.read().unwrap_or_else(|p| p.into_inner());
        kinds
            .iter()
            .find(|k| k.kind == kind)
            .map(|k| (k.pointers.clone(), k.tags))
            .ok_or_else(|| PurgeError::UnknownType(kind.to_owned()))
    }

    fn forget_responses(&self, depends: impl Fn(&str) -> bool) -> u64 {
        self.responses().map_or(0, |r| r.forget_where(depends))
    }
}
