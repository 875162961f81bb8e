//! The workloads, the checks every response goes through, and the load loop.
//!
//! This file owns the catalogue of workloads (W0–W5: names, parsing, descriptions) and the
//! module's public face; the parts live beside it, each with one concern:
//!
//! - `picker`: the seeded layout and how W3/W4 choose ids;
//! - `writes`: W4's record of returned writes, against which reads are judged fresh or stale;
//! - `check`: why a response is wrong, and the checks of a user object;
//! - `op`: one request of a workload, its body and the check of its response;
//! - `client`: the control connection (login, `cacheStats`, `clearCache`, cold request);
//! - `spec`: what a measured run is given and what it measured;
//! - `task`: one connection's loop of requests during a run;
//! - `prefill`: W3's and W4's first pass over every user, before the warm-up;
//! - `measure`: one whole run: cold request, warm-up, measured window, counters;
//! - `hook`: `--window-hook`, a command run for exactly each measured window.
mod check;
mod client;
mod hook;
mod measure;
mod op;
mod picker;
mod prefill;
mod spec;
mod task;
mod writes;

pub use client::Client;
pub use measure::{Progress, run};
pub use op::Op;
pub use picker::{Layout, Picker};
pub use prefill::times as prefill_times;
#[cfg(test)]
pub use spec::{OpCounts, Split};
pub use spec::{OpLatency, RunResult, RunSpec};
pub use writes::Writes;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Workload {
    W0,
    W1,
    W2,
    W3,
    W4,
    W5,
}

impl Workload {
    pub const ALL: [Workload; 6] = [
        Workload::W0,
        Workload::W1,
        Workload::W2,
        Workload::W3,
        Workload::W4,
        Workload::W5,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "W0" => Some(Self::W0),
            "W1" => Some(Self::W1),
            "W2" => Some(Self::W2),
            "W3" => Some(Self::W3),
            "W4" => Some(Self::W4),
            "W5" => Some(Self::W5),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::W0 => "W0",
            Self::W1 => "W1",
            Self::W2 => "W2",
            Self::W3 => "W3",
            Self::W4 => "W4",
            Self::W5 => "W5",
        }
    }

    /// Whether some of its requests are writes (W4, W5).
    pub fn has_writes(self) -> bool {
        matches!(self, Self::W4 | Self::W5)
    }

    /// A few words, for chart labels.
    pub fn label(self, zipf: Option<f64>) -> String {
        let dist = distribution(zipf);
        match self {
            Self::W0 => "__typename".into(),
            Self::W1 => "user(id), hot".into(),
            Self::W2 => "users, limit 100".into(),
            Self::W3 => format!("user(id), {dist}"),
            Self::W4 => "95% read, 5% write".into(),
            Self::W5 => "80% read (ids, pages), 20% write".into(),
        }
    }

    /// What it sends, for tables.
    pub fn describe(self, zipf: Option<f64>) -> String {
        let dist = distribution(zipf);
        match self {
            Self::W0 => "{ __typename }".into(),
            Self::W1 => "user(id), one hot user".into(),
            Self::W2 => "users(skip: 0, limit: 100)".into(),
            Self::W3 => format!("user(id), {dist} id"),
            Self::W4 => format!("95% user(id) / 5% updateUser, {dist} id"),
            Self::W5 => {
                format!("40% user(id) / 40% users(skip: 0, limit: 100) / 20% updateUser, {dist} id")
            }
        }
    }
}

/// How W3 and W4 choose ids, in words: `Zipf(s)` or `uniform`.
fn distribution(zipf: Option<f64>) -> String {
    match zipf {
        Some(s) => format!("Zipf({s})"),
        None => "uniform".into(),
    }
}
