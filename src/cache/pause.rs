//! Test-only pause points in the cache protocol, so that tests can drive interleavings step by
//! step: a reader stopped between its database read and its cache fill, a writer stopped
//! between its commit and its write-through. Unarmed (always, outside tests), a point costs one
//! branch.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use tokio::sync::oneshot;

/// Where a request can be held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Point {
    /// After the database read of a miss, before the cache fill.
    BeforeFill,
    /// After the database commit of a write, before its write-through.
    BeforeWriteThrough,
}

/// The held request's side of an armed point: tell the test, then wait for its release.
type Held = (oneshot::Sender<()>, oneshot::Receiver<()>);

/// Armed points, by point and full cache key.
#[derive(Default)]
pub struct PausePoints {
    armed: Mutex<HashMap<(Point, String), Held>>,
}

/// The test's side of an armed point.
#[cfg(feature = "test-hooks")]
pub struct Gate {
    reached: oneshot::Receiver<()>,
    release: oneshot::Sender<()>,
}

#[cfg(feature = "test-hooks")]
impl Gate {
    /// Waits (at most 30 s, then panics: this is for tests) until a request is held at the point.
    pub async fn reached(&mut self) {
        tokio::time::timeout(std::time::Duration::from_secs(30), &mut self.reached)
            .await
            .expect("no request reached the pause point within 30 s")
            .expect("pause point dropped");
    }

    /// Lets the held request go on.
    pub fn release(self) {
        let _ = self.release.send(());
    }
}

impl PausePoints {
    /// Arms `point` for `key`: the next request to get there is held until released.
    #[cfg(feature = "test-hooks")]
    pub fn arm(&self, point: Point, key: &str) -> Gate {
        let (reached_tx, reached_rx) = oneshot::channel();
        let (release_tx, release_rx) = oneshot::channel();
        self.armed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((point, key.to_owned()), (reached_tx, release_rx));
        Gate {
            reached: reached_rx,
            release: release_tx,
        }
    }

    /// Holds the caller if `point` is armed for `key`.
    pub async fn at(&self, point: Point, key: &str) {
        let armed = self
            .armed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(point, key.to_owned()));
        if let Some((reached, release)) = armed {
            let _ = reached.send(());
            let _ = release.await;
        }
    }
}

/// Holds at `point` when `points` is armed for `key`.
pub async fn maybe_pause(points: &Option<Arc<PausePoints>>, point: Point, key: &str) {
    if let Some(points) = points {
        points.at(point, key).await;
    }
}
