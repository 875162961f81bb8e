//! The tracked primaries of the L1 tracking connection: turning tracking on for each of them,
//! a barrier round over all of them, and telling when the cluster's primaries changed (see the
//! invariant in [`super`]).
use std::collections::BTreeSet;

use fred::{
    prelude::*,
    types::{ClusterHash, ClusterStateChange, CustomCommand, config::Server},
};
use tokio::sync::mpsc;

/// The tracking client and the primaries tracking is on for (empty when not clustered).
pub(super) struct Tracker {
    pub(super) client: Client,
    pub(super) namespace: String,
    pub(super) primaries: Vec<Server>,
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
    pub(super) async fn start(&mut self) -> Result<(), Error> {
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
    pub(super) fn topology_moved(&self) -> bool {
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
    pub(super) async fn ping_all(&self) -> Round {
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
pub(super) enum Round {
    Done,
    /// A node did not answer in time, or failed: the round fails, L1 stays.
    Failed,
    /// A tracked node is no longer a primary: the round fails and tracking starts again.
    Moved,
}

/// Forwards every cluster change a pool connection sees to the tracking task.
pub(super) fn forward_changes(pool: &[Client], to: mpsc::Sender<Vec<ClusterStateChange>>) {
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
    pub(super) fn affects(&self, change: &[ClusterStateChange]) -> bool {
        change.iter().any(|c| match c {
            ClusterStateChange::Add(node) => !self.primaries.contains(node),
            ClusterStateChange::Remove(node) => self.primaries.contains(node),
            ClusterStateChange::Rebalance => false,
        }) || self.topology_moved()
    }
}
