//! Unit tests of the parent module.
use super::*;

fn live() -> L1 {
    let l1 = L1::new(100, 1 << 20, Duration::from_secs(60));
    l1.set_live(true);
    l1
}

#[test]
fn fills_serve_until_invalidated() {
    let l1 = live();
    let fence = l1.fence();
    l1.fill("k", "v1", fence);
    assert_eq!(l1.get("k").unwrap().raw(), "v1");
    l1.invalidate("k");
    assert!(l1.get("k").is_none());
}

#[test]
fn a_fill_that_read_before_an_invalidation_is_dropped() {
    let l1 = live();
    let fence = l1.fence(); // read starts
    l1.invalidate("k"); // the key changes meanwhile
    l1.fill("k", "old", fence); // the read's old value arrives
    assert!(l1.get("k").is_none());
    let later = l1.fence();
    l1.fill("k", "new", later);
    assert_eq!(l1.get("k").unwrap().raw(), "new");
}

#[test]
fn a_slow_fill_cannot_replace_a_newer_one() {
    let l1 = live();
    let slow = l1.fence(); // reads the old value
    l1.invalidate("k"); // the key changes
    let fast = l1.fence(); // reads the new value, fills first
    l1.fill("k", "new", fast);
    l1.fill("k", "old", slow); // the slow read arrives last
    assert_eq!(l1.get("k").unwrap().raw(), "new");
}

#[test]
fn flush_drops_everything_and_older_fills() {
    let l1 = live();
    let fence = l1.fence();
    l1.fill("a", "1", l1.fence());
    l1.flush();
    l1.fill("b", "2", fence);
    assert!(l1.get("a").is_none() && l1.get("b").is_none());
}

#[test]
fn bounded_by_entries_and_by_bytes() {
    let by_entries = L1::new(10, 1 << 30, Duration::from_secs(60));
    by_entries.set_live(true);
    let by_bytes = L1::new(1_000_000, 10_000, Duration::from_secs(60));
    by_bytes.set_live(true);
    for i in 0..200 {
        by_entries.fill(&format!("k{i}"), "v", by_entries.fence());
        by_bytes.fill(&format!("k{i}"), &"x".repeat(1000), by_bytes.fence());
    }
    by_entries.slots.run_pending_tasks();
    by_bytes.slots.run_pending_tasks();
    assert!(by_entries.slots.entry_count() <= 10);
    assert!(by_bytes.slots.weighted_size() <= 10_000);
}

#[test]
fn not_live_serves_nothing() {
    let l1 = L1::new(100, 1 << 20, Duration::from_secs(60));
    l1.fill("k", "v", l1.fence());
    assert!(l1.get("k").is_none());
}

#[test]
fn decoded_once() {
    let e = Entry::new("41");
    let calls = std::cell::Cell::new(0);
    let d = |s: &str| {
        calls.set(calls.get() + 1);
        s.parse::<u32>().ok().map(|n| n + 1)
    };
    assert_eq!(*e.decoded(d).unwrap(), 42);
    assert_eq!(*e.decoded(d).unwrap(), 42);
    assert_eq!(calls.get(), 1);
}

#[test]
fn an_invalidation_whose_marker_was_evicted_still_stops_an_older_fill() {
    // A full L1: the marker an invalidation leaves for a key it does not hold is a new entry,
    // which the cache may evict at once.
    let l1 = L1::new(10, 1 << 30, Duration::from_secs(60));
    l1.set_live(true);
    let slow = l1.fence(); // a read of `k` starts
    l1.invalidate("k"); // `k` changes meanwhile
    for round in 0..20 {
        for i in 0..10 {
            l1.fill(&format!("hot{i}"), "v", l1.fence());
            l1.get(&format!("hot{i}"));
        }
        l1.slots.run_pending_tasks();
        if round > 2 && !l1.slots.contains_key("k") {
            break;
        }
    }
    assert!(
        !l1.slots.contains_key("k"),
        "the marker was not evicted: no test"
    );
    l1.fill("k", "old", slow); // the read's old value arrives
    assert!(
        l1.get("k").is_none(),
        "an older read filled over a lost invalidation"
    );
    let later = l1.fence();
    l1.fill("k", "new", later);
    l1.slots.run_pending_tasks();
    assert!(l1.get("k").is_none_or(|e| e.raw() == "new"));
}

/// Two keys whose slots in the table of recent invalidations differ.
fn apart(l1: &L1) -> (String, String) {
    let a = "user:1".to_owned();
    let b = (2..)
        .map(|i| format!("user:{i}"))
        .find(|b| !std::ptr::eq(l1.recent(&a), l1.recent(b)))
        .unwrap();
    (a, b)
}

#[test]
fn a_mark_survives_invalidations_of_other_keys_only() {
    let l1 = live();
    let (mine, other) = apart(&l1);
    l1.fill(&mine, "v", l1.fence());
    let mark = l1.quiet_mark().expect("nothing under way");
    assert!(l1.untouched_since([mine.as_str()].into_iter(), mark));
    l1.invalidate(&other);
    assert!(
        l1.untouched_since([mine.as_str()].into_iter(), mark),
        "another key's write leaves it"
    );
    l1.invalidate(&mine);
    assert!(!l1.untouched_since([mine.as_str()].into_iter(), mark));
    assert!(!l1.untouched_since([other.as_str()].into_iter(), mark));
}

#[test]
fn a_flush_or_no_mark_sends_every_response_to_the_full_check() {
    let l1 = live();
    let (key, _) = apart(&l1);
    assert!(
        !l1.untouched_since([key.as_str()].into_iter(), 0),
        "no mark"
    );
    let mark = l1.quiet_mark().unwrap();
    l1.flush();
    assert!(!l1.untouched_since([key.as_str()].into_iter(), mark));
}

#[test]
fn no_mark_is_taken_while_an_invalidation_is_under_way() {
    let l1 = live();
    // An invalidation numbered, its slot not yet replaced (what `invalidate` does first).
    l1.seq.fetch_add(1, Ordering::AcqRel);
    assert_eq!(l1.quiet_mark(), None);
    // It takes effect.
    l1.settled.fetch_add(1, Ordering::AcqRel);
    assert!(l1.quiet_mark().is_some());
}

#[test]
fn a_record_keeps_the_highest_mark() {
    let checked = Checked::default();
    assert_eq!(checked.mark(), 0);
    checked.record(5, Some(9));
    checked.record(6, None);
    checked.record(7, Some(3));
    assert!(checked.at(7) && !checked.at(6));
    assert_eq!(checked.mark(), 9);
}
