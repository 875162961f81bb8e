//! The tracking connection that keeps L1 coherent, on one Redis, a Sentinel group or a Cluster.
//!
//! *Invariant.* L1 is live only while `CLIENT TRACKING ON BCAST PREFIX <namespace>` is on for
//! **every primary** that holds keys of the namespace, on the connections this task reads
//! pushes from; and a barrier round succeeds only when every one of those nodes answered on
//! that connection (each reply follows every push that node generated before it) and, in a
//! cluster, said it is still a primary.
//!
//! In a cluster, BCAST tracking is per node: each primary reports only its own keys, so one
//! tracked node (what fred's `start_tracking` does in BCAST mode) misses every write to the
//! others. Here every primary of the routing table is tracked, and L1 is flushed and tracking
//! started again whenever the set of primaries changes (failover, a node added or removed),
//! as seen by this connection, by any connection of the pool (a MOVED during a read), or by
//! a periodic refresh of the routing table. A Sentinel failover reconnects the connection to
//! the new primary, which flushes L1 like any reconnection.
mod tracker;

use std::{sync::Arc, time::Duration};

use fred::{prelude::*, types::ClusterStateChange};
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};

use super::{BARRIER_TIMEOUT, L1};
use tracker::{Round, Tracker, forward_changes};

/// How often the routing table of a cluster is refreshed when nothing else refreshed it.
const TOPOLOGY_REFRESH: Duration = Duration::from_secs(1);

impl L1 {
    /// Opens the tracking connection to `url` and keeps L1 coherent until the process ends:
    /// live while tracking is on for every primary, flushed and bypassed while it is not.
    /// `pool` are the connections reads go through: a topology change any of them notices
    /// flushes L1 too.
    pub fn track(
        self: &Arc<Self>,
        url: &str,
        namespace: &str,
        pool: &[Client],
    ) -> Result<(), fred::error::Error> {
        let builder = crate::cache::client::builder(url, true, Duration::from_secs(2))?;
        let tracker = Tracker {
            client: builder.build()?,
            namespace: namespace.to_owned(),
            primaries: Vec::new(),
        };
        let (moved_tx, moved_rx) = mpsc::channel(16);
        if tracker.client.is_clustered() {
            forward_changes(pool, moved_tx);
        }
        let (barrier_tx, barrier_rx) = mpsc::channel::<oneshot::Sender<bool>>(4096);
        let _ = self.barrier.set(barrier_tx);
        tokio::spawn(self.clone().run(tracker, barrier_rx, moved_rx));
        Ok(())
    }

    async fn run(
        self: Arc<Self>,
        mut tracker: Tracker,
        mut barrier_rx: mpsc::Receiver<oneshot::Sender<bool>>,
        mut moved_rx: mpsc::Receiver<Vec<ClusterStateChange>>,
    ) {
        let client = tracker.client.clone();
        let mut invalidations = client.invalidation_rx();
        let mut reconnects = client.reconnect_rx();
        let mut errors = client.error_rx();
        let mut changes = client.cluster_change_rx();
        let _connection = client.connect();
        let mut refresh = tokio::time::interval(TOPOLOGY_REFRESH);
        loop {
            if !self.is_live() {
                // (Re)start tracking; until it is on everywhere, L1 stays flushed and bypassed.
                // Events from before this start are covered by it; any that arrive during it
                // are seen in the loop below and start it again.
                while reconnects.try_recv().is_ok() {}
                while errors.try_recv().is_ok() {}
                while changes.try_recv().is_ok() {}
                while moved_rx.try_recv().is_ok() {}
                match tracker.start().await {
                    Ok(()) => {
                        self.set_live(true);
                        tracing::info!(
                            primaries = tracker.primaries.len().max(1),
                            "L1 coherent: tracking invalidations under the namespace"
                        );
                    }
                    Err(err) => {
                        tracing::debug!(error = %err, "L1 tracking not on yet");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                }
            }
            tokio::select! {
                pushed = invalidations.recv() => match pushed {
                    Ok(inv) => self.apply(inv),
                    Err(_) => {
                        // Lagged or closed: pushes may be lost.
                        tracing::warn!("L1 invalidations lost; flushing L1");
                        self.set_live(false);
                        invalidations = client.invalidation_rx();
                    }
                },
                Some(first) = barrier_rx.recv() => {
                    // One round for everyone waiting now.
                    let mut waiting = vec![first];
                    while let Ok(more) = barrier_rx.try_recv() {
                        waiting.push(more);
                    }
                    let began = Instant::now();
                    let round = tokio::time::timeout(BARRIER_TIMEOUT, tracker.ping_all())
                        .await
                        .unwrap_or(Round::Failed);
                    // fred replays a command cut by a reconnect on the new connection, where
                    // tracking is off: a round during which the connection changed proves
                    // nothing, and neither does one after the primaries changed.
                    let changed = !reconnects.is_empty()
                        || !errors.is_empty()
                        || !moved_rx.is_empty()
                        || tracker.topology_moved();
                    let mut ok = round == Round::Done && !changed;
                    // Every push sent before the PONGs is in the channel now: apply them.
                    loop {
                        match invalidations.try_recv() {
                            Ok(inv) => self.apply(inv),
                            Err(tokio::sync::broadcast::error::TryRecvError::Empty) => break,
                            Err(_) => {
                                tracing::warn!("L1 invalidations lost; flushing L1");
                                self.set_live(false);
                                invalidations = client.invalidation_rx();
                                ok = false;
                                break;
                            }
                        }
                    }
                    self.finish_round(began, ok, waiting);
                    if round == Round::Moved || tracker.topology_moved() {
                        tracing::warn!("a tracked node is no longer a cluster primary; flushing L1 and tracking the primaries again");
                        self.set_live(false);
                    }
                }
                _ = reconnects.recv() => {
                    tracing::info!("L1 tracking connection (re)connected; flushing L1");
                    self.set_live(false);
                }
                _ = errors.recv() => {
                    tracing::warn!("L1 tracking connection lost; L1 bypassed until it is back");
                    self.set_live(false);
                }
                Ok(change) = changes.recv() => {
                    if tracker.affects(&change) {
                        tracing::warn!("cluster primaries changed; flushing L1 and tracking them all again");
                        self.set_live(false);
                    }
                }
                Some(change) = moved_rx.recv() => {
                    if tracker.affects(&change) {
                        tracing::warn!("cluster primaries changed under a read; flushing L1 and tracking them all again");
                        self.set_live(false);
                    }
                }
                _ = refresh.tick(), if client.is_clustered() => {
                    if client.sync_cluster().await.is_err() || tracker.topology_moved() {
                        self.set_live(false);
                    }
                }
            }
        }
    }
}
