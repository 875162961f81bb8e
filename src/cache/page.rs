//! Which pages of a list may be cached: the bound on keys whose bounds a client chooses.
//!
//! `users(skip, limit)` lets any caller name a page, and a cache entry per page named would
//! let one caller fill Redis: two billion skips, a thousand limits, each answer kept for
//! `CACHE_DEFAULT_TTL`. So only *aligned* pages are cached, and only when they hold a row:
//!
//! - `limit` divides 1000 and is at least 10 (10, 20, 25, 40, 50, 100, 125, 200, 250, 500,
//!   1000: the page sizes interfaces use), and `skip` is a multiple of it;
//! - a page past the last row (empty, `skip > 0`) is answered but not stored.
//!
//! *Invariant:* with `N` rows (the most the list held within a TTL), the entries of one list
//! are at most `Σ max(1, ceil(N / limit))` over those eleven limits (about `0.27 N + 11`) and
//! hold at most `11 N` rows in all (the pages of one size do not overlap), whatever the
//! requests, early refreshes included; every other page is read from the database each time,
//! and its response is never kept.

/// The page sizes that may be cached divide this.
const SPAN: i32 = 1000;
/// Nor smaller than this: one-row pages would cost a key per row per size.
const MIN_LIMIT: i32 = 10;

/// One page of a list, as a client asked for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// The entry name's first part (`list`, `page`): `{prefix}:{skip}:{limit}`.
    prefix: &'static str,
    skip: i32,
    limit: i32,
}

impl Page {
    /// The page of `limit` rows after the first `skip`, named `{prefix}:{skip}:{limit}`.
    pub fn new(prefix: &'static str, skip: i32, limit: i32) -> Self {
        Self {
            prefix,
            skip,
            limit,
        }
    }

    /// Whether this page may have a cache entry at all (aligned; see the module comment).
    pub fn stored(&self) -> bool {
        self.limit >= MIN_LIMIT
            && SPAN % self.limit == 0
            && self.skip >= 0
            && self.skip % self.limit == 0
    }

    /// Whether a load of this page that found `ids` is stored: not an empty page past the end.
    pub fn keeps<T>(&self, ids: &[T]) -> bool {
        self.skip == 0 || !ids.is_empty()
    }

    /// The entry's name under its list's tag.
    pub fn name(&self) -> String {
        format!("{}:{}:{}", self.prefix, self.skip, self.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn only_aligned_pages_of_common_sizes_are_stored() {
        let stored = |skip, limit| Page::new("list", skip, limit).stored();
        for (skip, limit) in [
            (0, 100),
            (200, 100),
            (0, 10),
            (50, 25),
            (0, 1000),
            (375, 125),
        ] {
            assert!(stored(skip, limit), "({skip}, {limit})");
        }
        for (skip, limit) in [
            (1, 100),
            (0, 1),
            (0, 7),
            (0, 30),
            (5, 10),
            (-100, 100),
            (0, 2000),
        ] {
            assert!(!stored(skip, limit), "({skip}, {limit})");
        }
        let sizes = (1..=1000).filter(|&l| stored(0, l)).count();
        assert_eq!(sizes, 11);
    }

    #[test]
    fn empty_pages_past_the_end_are_not_kept() {
        let none: [i64; 0] = [];
        assert!(
            Page::new("list", 0, 100).keeps(&none),
            "an empty list is a fact"
        );
        assert!(!Page::new("list", 100, 100).keeps(&none));
        assert!(Page::new("list", 100, 100).keeps(&[7]));
        assert_eq!(Page::new("page", 20, 10).name(), "page:20:10");
    }
}
