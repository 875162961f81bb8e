//! W4's record of its writes: which user has a write in flight, and which returned when.
//!
//! Kept apart from the checks it serves: readers ask it the smallest name number they may see,
//! writers claim and release users through it.
use std::{
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use rand::Rng;

use super::picker::Picker;

/// What W4's writers did, so readers can tell a stale name from a fresh one.
///
/// Writers set `fullName` to `User {i} #{n}` with `n` from one increasing counter. Writes to one
/// user never overlap (a writer skips a user that has a write in flight), so for each user the
/// order of `n` is the order in which the writes committed. Each returned write is recorded with
/// the instant it returned; a read that starts after that instant must see that `n` or a larger
/// one (the seeded name counts as `n = 0`).
pub struct Writes {
    users: Mutex<Vec<UserWrites>>,
    next_n: AtomicU64,
    /// How many writes have returned: while it is unchanged, so is every read's requirement.
    returned: AtomicU64,
}

#[derive(Default, Clone)]
struct UserWrites {
    in_flight: bool,
    /// The last few returned writes, oldest first: (n, returned at).
    done: Vec<(u64, Instant)>,
}

impl Writes {
    /// `first_n` is the first number writers use (names already in the database must be lower).
    pub fn new(users: u64, first_n: u64) -> Self {
        Self {
            users: Mutex::new(vec![UserWrites::default(); users as usize + 1]),
            next_n: AtomicU64::new(first_n.max(1)),
            returned: AtomicU64::new(0),
        }
    }

    /// How many writes have returned so far.
    pub fn returned(&self) -> u64 {
        self.returned.load(Ordering::Acquire)
    }

    /// Picks a user with no write in flight and reserves it; `None` if a few tries found none.
    pub(super) fn claim(&self, picker: &Picker, rng: &mut impl Rng) -> Option<(u64, u64)> {
        let mut users = self.users.lock().expect("writes lock");
        for _ in 0..8 {
            let id = picker.pick(rng);
            let u = &mut users[id as usize];
            if !u.in_flight {
                u.in_flight = true;
                return Some((id, self.next_n.fetch_add(1, Ordering::Relaxed)));
            }
        }
        None
    }

    /// Releases the user; a write that returned correctly is recorded with the instant now.
    pub(super) fn finish(&self, id: u64, n: u64, returned_ok: bool) {
        let mut users = self.users.lock().expect("writes lock");
        let u = &mut users[id as usize];
        u.in_flight = false;
        if returned_ok {
            self.returned.fetch_add(1, Ordering::AcqRel);
            u.done.push((n, Instant::now()));
            if u.done.len() > 4 {
                u.done.remove(0);
            }
        }
    }

    /// The smallest `n` a read of `id` that started at `started` may see.
    pub(super) fn required(&self, id: u64, started: Instant) -> u64 {
        let users = self.users.lock().expect("writes lock");
        users
            .get(id as usize)
            .and_then(|u| u.done.iter().rev().find(|(_, at)| *at < started))
            .map_or(0, |(n, _)| *n)
    }

    pub(super) fn issued_below(&self) -> u64 {
        self.next_n.load(Ordering::Relaxed)
    }
}
