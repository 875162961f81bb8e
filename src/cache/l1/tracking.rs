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
use std::{collections::BTreeSet, sync::Arc, time::Duration};

use fred::{
    prelude::*,
    types::{ClusterHash, ClusterStateChange, CustomCommand, config::Server},
};
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};

use super::{BARRIER_TIMEOUT, L1};

/// How often the routing table of a cluster is refreshed when nothing else refreshed it.
const TOPOLOGY_REFRESH: Duration = Duration::from_secs(1);

/// The tracking client and the primaries tracking is on for (empty when not clustered).
struct Tracker {
    client: Client,
    namespace: String,
    primaries: Vec<Server>,
}

impl Tracker {
    fn on(&self, node: &Server) -> fred::clients::WithOptions<Client> {
        self.client.with_options(&Options {
            cluster_node: Some(node.clone()),
            ..Options::default()
        })
    }

    /// The primaries of the cluster's routing table as this client knows it.
    fn routing_primaries(&self) -> Vec<Server> {
        self.client
            .cached_cluster_state()
            .map(|state| state.unique_primary_nodes())
            .unwrap_or_default()
    }

    /// Turns tracking on for every primary (or the one server).
    async fn start(&mut self) -> Result<(), Error> {
        self.client.wait_for_connect().await?;
        // Tracking is per connection; turn it off first in case a connection already had it.
        let _ = self.client.stop_tracking().await;
        if !self.client.is_clustered() {
            return self
                .client
                .start_tracking(vec![self.namespace.clone()], true, false, false, false)
                .await;
        }
        self.client.sync_cluster().await?;
        let primaries = self.routing_primaries();
        if primaries.is_empty() {
            return Err(Error::new(ErrorKind::Cluster, "no primaries known"));
        }
        for node in &primaries {
            self.on(node)
                .client_tracking::<(), _, _>(
                    "on",
                    None,
                    vec![self.namespace.clone()],
                    true,
                    false,
                    false,
                    false,
                )
                .await?;
        }
        // A primary that appeared while tracking went on would go untracked: look again.
        self.client.sync_cluster().await?;
        let again: BTreeSet<Server> = self.routing_primaries().into_iter().collect();
        if again != primaries.iter().cloned().collect() {
            return Err(Error::new(
                ErrorKind::Cluster,
                "primaries changed meanwhile",
            ));
        }
        self.primaries = primaries;
        Ok(())
    }

    /// Whether the routing table names other primaries than the tracked ones.
    fn topology_moved(&self) -> bool {
        if !self.client.is_clustered() {
            return false;
        }
        let now: BTreeSet<Server> = self.routing_primaries().into_iter().collect();
        let tracked: BTreeSet<Server> = self.primaries.iter().cloned().collect();
        now != tracked
    }

    /// PING on the tracked connection; in a cluster, `ROLE` on every tracked primary, which
    /// also tells when one of them is no longer a primary (a failover promoted a replica we do
    /// not track yet).
    async fn ping_all(&self) -> Round {
        if self.primaries.is_empty() {
            return match self.client.ping::<()>(None).await {
                Ok(()) => Round::Done,
                Err(_) => Round::Failed,
            };
        }
        let roles = self.primaries.iter().map(|node| async move {
            let role = CustomCommand::new_static("ROLE", ClusterHash::Random, false);
            let reply: Result<Vec<Value>, Error> =
                self.on(node).custom(role, Vec::<String>::new()).await;
            match reply {
                Ok(r) if r.first().and_then(Value::as_str).as_deref() == Some("master") => {
                    Round::Done
                }
                Ok(_) => Round::Moved,
                Err(_) => Round::Failed,
            }
        });
        futures::future::join_all(roles)
            .await
            .into_iter()
            .max()
            .unwrap_or(Round::Failed)
    }
}

/// How a barrier round went, worst last.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Round {
    Done,
    /// A node did not answer in time, or failed: the round fails, L1 stays.
    Failed,
    /// A tracked node is no longer a primary: the round fails and tracking starts again.
    Moved,
}

/// Forwards every cluster change a pool connection sees to the tracking task.
fn forward_changes(pool: &[Client], to: mpsc::Sender<Vec<ClusterStateChange>>) {
    for client in pool {
        let mut changes = client.cluster_change_rx();
        let to = to.clone();
        tokio::spawn(async move {
            while let Ok(change) = changes.recv().await {
                if to.send(change).await.is_err() {
                    return;
                }
            }
        });
    }
}

impl Tracker {
    /// Whether `change` adds a primary we do not track or removes one we do (a rebalance
    /// alone is checked against the routing table).
    fn affects(&self, change: &[ClusterStateChange]) -> bool {
        change.iter().any(|c| match c {
            ClusterStateChange::Add(node) => !self.primaries.contains(node),
            ClusterStateChange::Remove(node) => self.primaries.contains(node),
            ClusterStateChange::Rebalance => false,
        }) || self.topology_moved()
    }
}

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
