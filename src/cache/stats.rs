//! This process's cache counters, by kind of entry. They are Prometheus counters, registered in
//! the app's registry, so `/metrics` and `cacheStats` read the same numbers.
use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

/// What a lookup was for; each kind has its own counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `user:{id}` entries (including the current-user lookup of auth).
    User = 0,
    /// `email:{email}` pointers.
    Email = 1,
    /// Pages of `users`.
    List = 2,
    /// Aggregates such as `userStats`.
    Aggregate = 3,
}

impl Kind {
    /// Every kind, in counter order.
    pub const ALL: [Kind; 4] = [Kind::User, Kind::Email, Kind::List, Kind::Aggregate];

    /// The name used in logs, stats and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Email => "email",
            Kind::List => "list",
            Kind::Aggregate => "aggregate",
        }
    }
}

/// One kind's counters.
struct KindCounters {
    hits: IntCounter,
    misses: IntCounter,
    errors: IntCounter,
    shared: IntCounter,
}

/// Hits, misses, errors and shared loads per kind.
pub struct Stats {
    kinds: [KindCounters; 4],
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
        let counters = |kind: Kind| KindCounters {
            hits: lookups.with_label_values(&[kind.as_str(), "hit"]),
            misses: lookups.with_label_values(&[kind.as_str(), "miss"]),
            errors: lookups.with_label_values(&[kind.as_str(), "error"]),
            shared: lookups.with_label_values(&[kind.as_str(), "shared"]),
        };
        Ok(Self {
            kinds: Kind::ALL.map(counters),
        })
    }

    pub fn hit(&self, kind: Kind) {
        self.kinds[kind as usize].hits.inc();
    }
    pub fn miss(&self, kind: Kind) {
        self.kinds[kind as usize].misses.inc();
    }
    pub fn shared(&self, kind: Kind) {
        self.kinds[kind as usize].shared.inc();
    }
    pub fn error(&self, kind: Kind) {
        self.kinds[kind as usize].errors.inc();
    }

    /// One kind's counters.
    pub fn of(&self, kind: Kind) -> Counts {
        let k = &self.kinds[kind as usize];
        Counts {
            hits: k.hits.get(),
            misses: k.misses.get(),
            errors: k.errors.get(),
            shared: k.shared.get(),
        }
    }

    /// The sum over every kind.
    pub fn total(&self) -> Counts {
        Kind::ALL.iter().fold(Counts::default(), |acc, &k| {
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
        stats.hit(Kind::List);
        stats.hit(Kind::List);
        stats.miss(Kind::User);
        assert_eq!(stats.of(Kind::List).hits, 2);
        assert_eq!(stats.total().misses, 1);
        assert!(!registry.gather().is_empty());
    }
}
