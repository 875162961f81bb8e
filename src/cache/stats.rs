//! This process's cache counters, by kind of entry.
use std::sync::atomic::{AtomicU64, Ordering};

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

    /// The name used in logs and stats.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Email => "email",
            Kind::List => "list",
            Kind::Aggregate => "aggregate",
        }
    }
}

/// Hits, misses and errors per kind.
#[derive(Default)]
pub struct Stats {
    hits: [AtomicU64; 4],
    misses: [AtomicU64; 4],
    errors: [AtomicU64; 4],
    shared: [AtomicU64; 4],
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
    pub fn hit(&self, kind: Kind) {
        self.hits[kind as usize].fetch_add(1, Ordering::Relaxed);
    }
    pub fn miss(&self, kind: Kind) {
        self.misses[kind as usize].fetch_add(1, Ordering::Relaxed);
    }
    pub fn shared(&self, kind: Kind) {
        self.shared[kind as usize].fetch_add(1, Ordering::Relaxed);
    }
    pub fn error(&self, kind: Kind) {
        self.errors[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// One kind's counters.
    pub fn of(&self, kind: Kind) -> Counts {
        let i = kind as usize;
        Counts {
            hits: self.hits[i].load(Ordering::Relaxed),
            misses: self.misses[i].load(Ordering::Relaxed),
            errors: self.errors[i].load(Ordering::Relaxed),
            shared: self.shared[i].load(Ordering::Relaxed),
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
}
