//! Which pages of a list may be cached: the bound on keys whose bounds a client chooses.
//!
//! `users(skip, limit)` lets any caller name a page, and a cache entry per page named would
//! let one caller fill Redis: two billion skips, a thousand limits, each answer kept for
//! `CACHE_DEFAULT_TTL`. So only *aligned* pages are cached, and only when they hold a row:
//!
//! - `limit` divides 1000 and is at least 10 (10, 20, 25, 40, 50, 100, 125, 200, 250, 500,
//!   1000: the page sizes interfaces use), and `skip` is a multiple of it;
//! - a page past the last row (empty, `skip > 0`), or whose covering page is past it, is
//!   answered but not stored: it is read from the database each time.
//!
//! Any other page is cut from the smallest aligned page that holds all of it ([`Page::covering`]:
//! `skip: 3, limit: 7` from `0:10`, `skip: 15, limit: 30` from `0:50`), one entry and so one
//! generation, exact as that page is. A list whose resolver returns at most `max` rows names
//! it ([`Page::within`]) and no covering page is larger. A page that straddles a multiple of
//! 1000, or that no page of at most `max` rows holds, has none.
//!
//! *Invariant:* with `N` rows (the most the list held within a TTL), the entries of one list
//! are at most `Σ max(1, ceil(N / limit))` over those eleven limits (about `0.27 N + 11`) and
//! hold at most `11 N` rows in all (the pages of one size do not overlap), whatever the
//! requests, early refreshes included; a page no aligned page holds is read from the database
//! each time, and its response is never kept.

/// The page sizes that may be cached divide this.
const SPAN: i32 = 1000;
/// The sizes that may be stored, smallest first: the divisors of `SPAN` from 10 (one-row pages
/// would cost a key per row per size).
const SIZES: [i32; 11] = [10, 20, 25, 40, 50, 100, 125, 200, 250, 500, 1000];

/// One page of a list, as a client asked for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// The entry name's first part (`list`, `page`): `{prefix}:{skip}:{limit}`.
    prefix: &'static str,
    skip: i32,
    limit: i32,
    /// The largest page that may cover this one.
    max: i32,
}

impl Page {
    /// The page of `limit` rows after the first `skip`, named `{prefix}:{skip}:{limit}`.
    pub fn new(prefix: &'static str, skip: i32, limit: i32) -> Self {
        Self {
            prefix,
            skip,
            limit,
            max: SPAN,
        }
    }

    /// This page, covered by no page larger than `max` rows: a resolver that returns at most
    /// `max` rows names its bound, so no request makes it load more rows than its largest
    /// answer holds.
    pub fn within(self, max: i32) -> Self {
        Self { max, ..self }
    }

    /// Whether this page may have a cache entry at all (aligned; see the module comment).
    #[cfg(test)]
    fn stored(&self) -> bool {
        SIZES.contains(&self.limit) && self.skip >= 0 && self.skip % self.limit == 0
    }

    /// The smallest page that may be stored and holds every row of this one: this page itself
    /// when it may be stored; `None` when the page is not valid (`skip < 0`, `limit` out of
    /// 1 to 1000), straddles a multiple of 1000 or is held by no page within its `max`.
    pub fn covering(&self) -> Option<Page> {
        if self.skip < 0 || !(1..=SPAN).contains(&self.limit) {
            return None;
        }
        let first = i64::from(self.skip);
        let last = first + i64::from(self.limit) - 1;
        let sizes = SIZES.iter().take_while(|&&size| size <= self.max);
        sizes.copied().find_map(|size| {
            let start = first - first % i64::from(size);
            if last >= start + i64::from(size) {
                return None;
            }
            Some(Page {
                skip: i32::try_from(start).ok()?,
                limit: size,
                ..*self
            })
        })
    }

    /// This page's rows out of `covering`'s (`rows`, as loaded for [`Page::covering`]).
    pub fn cut<T>(&self, covering: &Page, mut rows: Vec<T>) -> Vec<T> {
        let from = usize::try_from(self.skip - covering.skip)
            .unwrap_or(0)
            .min(rows.len());
        let to = from
            .saturating_add(usize::try_from(self.limit).unwrap_or(0))
            .min(rows.len());
        rows.truncate(to);
        rows.drain(..from);
        rows
    }

    /// The rows a cold load of this page reads beyond those it returns: its covering page's
    /// surplus (0 for a stored page or one no page covers). Resolvers add it to their
    /// complexity, so a request pays for the rows it makes the server load (see [`surplus`]).
    pub fn surplus(&self) -> usize {
        self.covering()
            .map_or(0, |c| usize::try_from(c.limit - self.limit).unwrap_or(0))
    }

    /// The rows to skip, as the client asked.
    pub fn skip(&self) -> i32 {
        self.skip
    }

    /// The most rows, as the client asked.
    pub fn limit(&self) -> i32 {
        self.limit
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

/// [`Page::surplus`] of `skip`, `limit` within `max`, for a resolver's `complexity` expression:
/// `users(skip: 399, limit: 102)` is cut from the 1000 rows of `0:1000`, so it costs 898 beyond
/// its rows, and a document of many such fields is refused like one asking for those rows.
pub fn surplus(skip: i32, limit: i32, max: i32) -> usize {
    Page::new("", skip, limit).within(max).surplus()
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
    fn the_sizes_are_the_divisors_of_the_span() {
        let divisors: Vec<i32> = (10..=1000).filter(|&l| 1000 % l == 0).collect();
        assert_eq!(divisors, super::SIZES);
    }

    #[test]
    fn a_page_is_cut_from_the_smallest_aligned_page_holding_it() {
        let covering = |skip, limit| {
            Page::new("list", skip, limit)
                .covering()
                .map(|p| (p.skip, p.limit))
        };
        assert_eq!(covering(0, 100), Some((0, 100)));
        assert_eq!(covering(3, 7), Some((0, 10)));
        assert_eq!(covering(15, 30), Some((0, 50)));
        assert_eq!(covering(1, 10), Some((0, 20)));
        assert_eq!(covering(14, 1), Some((10, 10)));
        assert_eq!(covering(1_999_999_995, 3), Some((1_999_999_990, 10)));
        assert_eq!(covering(2_147_483_647, 1000), None);
        assert_eq!(covering(995, 10), None, "straddles 1000");
        assert_eq!(covering(13, 1000), None);
        assert_eq!(covering(-1, 10), None);
        assert_eq!(covering(0, 0), None);
        assert_eq!(covering(0, 1001), None);
        assert_eq!(covering(60, 50), Some((0, 125)));
        let within = |skip, limit| {
            Page::new("page", skip, limit)
                .within(100)
                .covering()
                .map(|p| (p.skip, p.limit))
        };
        assert_eq!(within(15, 30), Some((0, 50)));
        assert_eq!(within(90, 20), Some((80, 40)));
        assert_eq!(within(60, 50), None, "only pages over 100 rows hold it");
        assert_eq!(within(0, 100), Some((0, 100)));
        assert_eq!(super::surplus(399, 102, 1000), 898);
        assert_eq!(super::surplus(400, 100, 1000), 0, "a stored page");
        assert_eq!(super::surplus(1, 10, 1000), 10, "cut from 0:20");
        assert_eq!(super::surplus(995, 10, 1000), 0, "no page covers it");
        assert_eq!(super::surplus(60, 50, 100), 0, "none within 100");
        assert_eq!(super::surplus(90, 20, 100), 20, "cut from 80:40");
        let page = Page::new("list", 3, 7);
        let rows: Vec<i32> = (0..10).collect();
        assert_eq!(
            page.cut(&page.covering().unwrap(), rows),
            [3, 4, 5, 6, 7, 8, 9]
        );
        let short: Vec<i32> = (0..5).collect();
        assert_eq!(page.cut(&page.covering().unwrap(), short), [3, 4]);
        assert!(page.cut(&page.covering().unwrap(), vec![0, 1]).is_empty());
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
