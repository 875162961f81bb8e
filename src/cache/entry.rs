//! One value as read from a store: the raw string, and its decoded form once someone decoded
//! it (so an entry L1 or the memory store holds is decoded at most once, however often read).
use std::{
    any::Any,
    sync::{Arc, OnceLock},
    time::Instant,
};

/// A raw stored value, with its decoded form once someone decoded it.
pub struct Entry {
    raw: Arc<str>,
    decoded: OnceLock<Arc<dyn Any + Send + Sync>>,
    /// When it was read from its store (a response built from it lives no longer than the
    /// entry itself may be served).
    born: Instant,
}

impl Entry {
    /// An entry holding `raw`, not decoded yet.
    pub fn new(raw: &str) -> Self {
        Self {
            raw: raw.into(),
            decoded: OnceLock::new(),
            born: Instant::now(),
        }
    }

    /// When it was read from its store.
    pub fn born(&self) -> Instant {
        self.born
    }

    /// The raw string.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The value `decode` makes of the raw string, decoded at most once per entry.
    pub fn decoded<T: Send + Sync + 'static>(
        &self,
        decode: impl FnOnce(&str) -> Option<T>,
    ) -> Option<Arc<T>> {
        if let Some(any) = self.decoded.get() {
            return any.clone().downcast::<T>().ok();
        }
        let value: Arc<T> = Arc::new(decode(&self.raw)?);
        let _ = self.decoded.set(value.clone());
        Some(value)
    }
}
