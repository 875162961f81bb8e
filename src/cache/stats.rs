//! This process's cache counters, by kind of entry. They are Prometheus counters, registered in
//! the app's registry, so `/metrics` and `cacheStats` read the same numbers.
use std::sync::{Mutex, OnceLock};

use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

/// What a lookup was for; each kind has its own counters. The four built-in kinds are
/// constants; an entity or a resolver policy gets its own with [`super::Cache::kind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    index: u8,
    name: &'static str,
}

impl Kind {
    /// `user:{id}` entries (including the current-user lookup of auth).
    pub const USER: Kind = Kind::builtin(0, "user");
    /// `email:{email}` pointers.
    pub const EMAIL: Kind = Kind::builtin(1, "email");
    /// Pages of `users`.
    pub const LIST: Kind = Kind::builtin(2, "list");
    /// Aggregates such as `userStats`, and any tagged entry without a kind of its own.
    pub const AGGREGATE: Kind = Kind::builtin(3, "aggregate");

    const fn builtin(index: u8, name: &'static str) -> Self {
        Self { index, name }
    }

    /// The name used in logs, stats and metric labels.
    pub fn as_str(self) -> &'static str {
        self.name
    }
}

/// How many kinds one process can count; more names share the last, `other`.
const MAX_KINDS: usize = 32;

/// One kind's counters.
struct KindCounters {
    hits: IntCounter,
    misses: IntCounter,
    errors: IntCounter,
    shared: IntCounter,
}

/// Hits, misses, errors and shared loads per kind.
pub struct Stats {
    lookups: IntCounterVec,
    /// Filled in order by [`Stats::kind`]; a slot, once set, never changes.
    kinds: [OnceLock<KindCounters>; MAX_KINDS],
    names: Mutex<Vec<&'static str>>,
}

/// A snapshot of one kind's counters (or of their sum).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub hits: u64,
    pub misses: u64,
    pub errors: u64,
    /// Lookups answered by another request's database load (single-flight or lease).
    pub shared: u64,
}

impl Counts {
    /// hits / (hits + misses) * 100, rounded to two decimals; 0 when both are 0.
    pub fn hit_rate(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            return 0.0;
        }
        (self.hits as f64 / total as f64 * 10_000.0).round() / 100.0
    }
}

impl Stats {
    /// Counters registered in `registry` as `cachegraph_cache_lookups_total{kind, result}`.
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let lookups = IntCounterVec::new(
            Opts::new(
                "cachegraph_cache_lookups_total",
                "Cache lookups by kind of entry and result (hit, miss, shared, error).",
            ),
            &["kind", "result"],
        )?;
        registry.register(Box::new(lookups.clone()))?;
        let stats = Self {
            lookups,
            kinds: std::array::from_fn(|_| OnceLock::new()),
            names: Mutex::new(Vec::new()),
        };
        for kind in [Kind::USER, Kind::EMAIL, Kind::LIST, Kind::AGGREGATE] {
            stats.kind(kind.name);
        }
        Ok(stats)
    }

    /// The kind called `name`, registered on first use.
    pub fn kind(&self, name: &'static str) -> Kind {
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(index) = names.iter().position(|n| *n == name) {
            return Kind {
                index: index as u8,
                name,
            };
        }
        if names.len() == MAX_KINDS {
            tracing::warn!(
                name,
                "more than {MAX_KINDS} cache kinds: counted as `other`"
            );
            return Kind {
                index: (MAX_KINDS - 1) as u8,
                name: names[MAX_KINDS - 1],
            };
        }
        let name = if names.len() == MAX_KINDS - 1 {
            "other"
        } else {
            name
        };
        let index = names.len();
        names.push(name);
        let counter = |result| self.lookups.with_label_values(&[name, result]);
        let _ = self.kinds[index].set(KindCounters {
            hits: counter("hit"),
            misses: counter("miss"),
            errors: counter("error"),
            shared: counter("shared"),
        });
        Kind {
            index: index as u8,
            name,
        }
    }

    fn counters(&self, kind: Kind) -> Option<&KindCounters> {
        self.kinds.get(kind.index as usize).and_then(OnceLock::get)
    }

    pub fn hit(&self, kind: Kind) {
        if let Some(k) = self.counters(kind) {
            k.hits.inc();
        }
    }
    pub fn miss(&self, kind: Kind) {
        if let Some(k) = self.counters(kind) {
            k.misses.inc();
        }
    }
    pub fn shared(&self, kind: Kind) {
        if let Some(k) = self.counters(kind) {
            k.shared.inc();
        }
    }
    pub fn error(&self, kind: Kind) {
        if let Some(k) = self.counters(kind) {
            k.errors.inc();
        }
    }

    /// One kind's counters.
    pub fn of(&self, kind: Kind) -> Counts {
        self.counters(kind)
            .map(|k| Counts {
                hits: k.hits.get(),
                misses: k.misses.get(),
                errors: k.errors.get(),
                shared: k.shared.get(),
            })
            .unwrap_or_default()
    }

    /// Every registered kind, in the order registered.
    pub fn kinds(&self) -> Vec<Kind> {
        let names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        names
            .iter()
            .enumerate()
            .map(|(index, &name)| Kind {
                index: index as u8,
                name,
            })
            .collect()
    }

    /// The sum over every kind.
    pub fn total(&self) -> Counts {
        self.kinds().into_iter().fold(Counts::default(), |acc, k| {
            let c = self.of(k);
            Counts {
                hits: acc.hits + c.hits,
                misses: acc.misses + c.misses,
                errors: acc.errors + c.errors,
                shared: acc.shared + c.shared,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_rate_rounds_to_two_decimals() {
        let c = Counts {
            hits: 2,
            misses: 1,
            ..Counts::default()
        };
        assert_eq!(c.hit_rate(), 66.67);
        assert_eq!(Counts::default().hit_rate(), 0.0);
    }

    #[test]
    fn counters_are_per_kind_and_registered() {
        let registry = Registry::new();
        let stats = Stats::new(&registry).unwrap();
        stats.hit(Kind::LIST);
        stats.hit(Kind::LIST);
        stats.miss(Kind::USER);
        let product = stats.kind("product");
        assert_eq!(stats.kind("product"), product, "registered once");
        stats.miss(product);
        assert_eq!(stats.of(Kind::LIST).hits, 2);
        assert_eq!(stats.of(product).misses, 1);
        assert_eq!(stats.total().misses, 2);
        assert_eq!(stats.kinds().len(), 5);
        assert!(!registry.gather().is_empty());
    }
}
