//! The tags a response was built from, for a CDN in front to purge by (`Cache-Tag`): the tag
//! of every tagged entry read (`users`, `user-counts`), and for every entity read its type
//! (`user`) and itself (`user:42`). Pointers (`email:…`) are never named: the entity they led
//! to is, and an email does not belong in a header.
use std::collections::BTreeSet;

use super::{Cache, request::Reads};

/// The longest `Cache-Tag` value: past it, entities are named by their type alone.
pub const MAX_TAG_HEADER: usize = 8 * 1024;

impl Cache {
    /// The `Cache-Tag` value for a response that read `reads`: the entries it read (not those
    /// read only to check the caller) and what it loaded, if anything.
    pub fn cache_tag(&self, reads: &Reads) -> Option<String> {
        let (deps, named) = (&reads.deps, &reads.named);
        let kinds: Vec<&'static str> = {
            let kinds = self.inner.kinds.read().unwrap_or_else(|p| p.into_inner());
            kinds.iter().map(|k| k.kind).collect()
        };
        let mut tags = BTreeSet::new();
        let mut entities = BTreeSet::new();
        let relative = deps
            .iter()
            .filter(|(key, _)| !reads.unnamed.contains(key))
            .filter_map(|(key, _)| key.strip_prefix(self.namespace()))
            .chain(named.iter().map(String::as_str));
        for relative in relative {
            // A bare name is a tag (`users`); an entity is named `kind:id`, as its key is.
            if !relative.contains(':') {
                tags.insert(relative);
            } else if let Some(tagged) = relative.strip_prefix('{') {
                if let Some((tag, _)) = tagged.split_once('}') {
                    tags.insert(tag);
                }
            } else if let Some((kind, id)) = relative.split_once(':')
                && let Some(kind) = kinds.iter().find(|k| **k == kind)
                && id.bytes().all(|b| b.is_ascii_digit())
            {
                tags.insert(kind);
                entities.insert(relative);
            }
        }
        let mut value = tags.into_iter().collect::<Vec<_>>().join(",");
        let named: usize = entities.iter().map(|e| e.len() + 1).sum();
        if value.len() + named <= MAX_TAG_HEADER {
            for entity in entities {
                value.push(',');
                value.push_str(entity);
            }
        }
        (!value.is_empty()).then_some(value)
    }
}
