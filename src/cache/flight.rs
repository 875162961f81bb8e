//! Single-flight: concurrent misses for one key in this process share one database load.
//!
//! The first request to miss a key becomes its *leader* and loads; the others *follow*: they
//! wait for the leader's value instead of loading it again. If the leader fails or is cancelled
//! (its client went away), followers load for themselves: sharing is an optimisation, never a
//! new way to fail.
use std::{
    any::Any,
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::sync::watch;

type Shared = Arc<dyn Any + Send + Sync>;
/// `None` while loading; `Some(None)` when the leader gave up; `Some(Some(v))` when done.
type Slot = watch::Receiver<Option<Option<Shared>>>;

/// The in-flight loads of this process, by cache key.
#[derive(Default)]
pub struct Flights {
    inflight: Mutex<HashMap<String, Slot>>,
}

/// What a request that missed does next.
pub enum Turn<'a> {
    /// Load, then [`Leader::finish`].
    Lead(Leader<'a>),
    /// Wait with [`Follower::wait`].
    Follow(Follower),
}

/// The request that loads for everyone. Dropping it unfinished releases the followers.
pub struct Leader<'a> {
    flights: &'a Flights,
    key: String,
    tx: Option<watch::Sender<Option<Option<Shared>>>>,
}

/// A request waiting for a leader.
pub struct Follower {
    rx: Slot,
}

impl Flights {
    /// Joins the flight for `key`, leading it if there is none.
    pub fn join(&self, key: &str) -> Turn<'_> {
        let mut inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(rx) = inflight.get(key) {
            return Turn::Follow(Follower { rx: rx.clone() });
        }
        let (tx, rx) = watch::channel(None);
        inflight.insert(key.to_owned(), rx);
        Turn::Lead(Leader {
            flights: self,
            key: key.to_owned(),
            tx: Some(tx),
        })
    }
}

impl Leader<'_> {
    /// Hands `value` to every follower and ends the flight.
    pub fn finish<T: Clone + Send + Sync + 'static>(mut self, value: &T) {
        self.end(Some(Arc::new(value.clone())));
    }

    fn end(&mut self, value: Option<Shared>) {
        if let Some(tx) = self.tx.take() {
            self.flights
                .inflight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&self.key);
            let _ = tx.send(Some(value));
        }
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        self.end(None);
    }
}

impl Follower {
    /// The leader's value, or `None` when the leader failed (then load for yourself).
    pub async fn wait<T: Clone + Send + Sync + 'static>(mut self) -> Option<T> {
        let done = self.rx.wait_for(Option::is_some).await.ok()?;
        let shared = done.as_ref()?.as_ref()?.clone();
        drop(done);
        shared.downcast_ref::<T>().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn followers_get_the_leaders_value_or_fall_back() {
        let flights = Flights::default();
        let Turn::Lead(leader) = flights.join("k") else {
            panic!("first leads")
        };
        let Turn::Follow(follower) = flights.join("k") else {
            panic!("second follows")
        };
        let waiting = tokio::spawn(follower.wait::<String>());
        leader.finish(&"v".to_owned());
        assert_eq!(waiting.await.unwrap().as_deref(), Some("v"));

        let Turn::Lead(leader) = flights.join("k") else {
            panic!("flight ended")
        };
        let Turn::Follow(follower) = flights.join("k") else {
            panic!()
        };
        drop(leader);
        assert_eq!(follower.wait::<String>().await, None);
        assert!(matches!(flights.join("k"), Turn::Lead(_)));
    }
}
