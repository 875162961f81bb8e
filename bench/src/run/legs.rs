//! The legs of a local run: one server each, a backend with a configuration of cache layers.
//!
//! Every backend runs with every layer (the server's defaults); the first one with a cache also
//! runs the other configurations `--layers` asks for, bottom of the ladder first, so the tables
//! and the "throughput by layer" chart read from "entries only" up to "every layer".
use crate::args::{Backend, Layers};

/// One server of the run: its backend, its layers and the label its results carry.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Leg {
    pub(super) backend: Backend,
    pub(super) layers: Layers,
    /// `redis`, `redis (entries + L1)`, …: the `backend` of its results.
    pub(super) label: String,
}

impl Leg {
    fn new(backend: Backend, layers: Layers) -> Self {
        Self {
            backend,
            layers,
            label: layers.leg_label(backend.as_str()),
        }
    }
}

/// The legs for `backends` (those that could be started) and `layers`, and what was left out.
///
/// L1 exists only in front of Redis, so for the in-process `memory` backend the `l1` step
/// would measure `entries` again: it is left out with a note.
pub(super) fn legs(backends: &[Backend], layers: &[Layers]) -> (Vec<Leg>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let laddered = backends.iter().copied().find(|b| *b != Backend::None);
    for &backend in backends {
        if Some(backend) != laddered {
            out.push(Leg::new(backend, Layers::All));
            continue;
        }
        for &l in layers {
            if backend == Backend::Memory && l == Layers::L1 {
                notes.push("--layers l1 left out for memory: L1 is a copy of Redis entries".into());
                continue;
            }
            out.push(Leg::new(backend, l));
        }
    }
    (out, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_goes_to_the_first_cache_backend() {
        let (all, notes) = legs(
            &[Backend::None, Backend::Redis, Backend::Memory],
            &Layers::LADDER,
        );
        let labels: Vec<&str> = all.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "none",
                "redis (entries only)",
                "redis (entries + L1)",
                "redis (entries + L1 + parsed)",
                "redis",
                "memory"
            ]
        );
        assert!(notes.is_empty());
        let (memory, notes) = legs(&[Backend::Memory], &[Layers::Entries, Layers::L1]);
        assert_eq!(memory, [Leg::new(Backend::Memory, Layers::Entries)]);
        assert_eq!(notes.len(), 1);
        let (none, _) = legs(&[Backend::None], &Layers::LADDER);
        assert_eq!(none, [Leg::new(Backend::None, Layers::All)]);
    }
}
