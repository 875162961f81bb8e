//! What one request read from the cache, so that its whole response can be cached and
//! invalidated exactly (see [`super::responses`]), and when it began (for L1's read barrier).
//!
//! The HTTP handler runs each GraphQL request inside [`scope`]; the cache layer records every
//! entry the request was answered from, and each root field records the [`Policy`] it was
//! declared with. A response is cacheable only if
//! * *every* root field of it was declared ([`Reads::covers`]): nothing is cacheable by
//!   default, so a mutation or a new resolver that declares nothing is never kept; and
//! * *every* answer came from a cache entry: anything loaded from the database, shared from
//!   another request's load, or read while the cache was unavailable makes it uncacheable this
//!   time.
//!
//! [`Policy`]: super::policy::Policy
use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use futures::FutureExt;
use tokio::time::Instant;

use super::entry::Entry;

tokio::task_local! {
    static SCOPE: Arc<RequestScope>;
}

/// One request's record.
pub struct RequestScope {
    start: Instant,
    reads: Mutex<Reads>,
    /// Set when the kept response this request would have been served drew its entries due
    /// for an early refresh: its tagged hits refresh (shared by a request's records).
    refresh: Arc<AtomicBool>,
}

/// The cache entries a response was built from, and what else it depends on.
#[derive(Clone, Default)]
pub struct Reads {
    /// (full key, the exact entry read): the response is current while each key still holds
    /// that very entry.
    pub deps: Vec<(String, Arc<Entry>)>,
    /// False once anything was answered other than from a cache entry.
    pub uncacheable: bool,
    /// Tags (`users`) and entities (`user:42`) answered without an entry (loaded), for
    /// `Cache-Tag`: what entries were read names itself through `deps`.
    pub named: Vec<String>,
    /// Keys read only to check the caller: `Cache-Tag` does not name them (a shared response
    /// must not tell its readers who built it).
    pub unnamed: Vec<String>,
    /// The response depends on who asked (`me`).
    pub caller: Option<i64>,
    /// The request needed an authenticated caller.
    pub authenticated: bool,
    /// The request needed an admin.
    pub admin: bool,
    /// One (response key, field name) per root field run that declared a policy.
    pub declared: Vec<(String, String)>,
    /// One (response key, field name) per root field that ran at all.
    pub ran: Vec<(String, String)>,
}

/// Root fields that depend on the schema alone, and need no declaration.
const SCHEMA_FIELDS: [&str; 3] = ["__typename", "__schema", "__type"];

impl Reads {
    /// Whether a response whose data has the keys `roots` may be kept: every root field that
    /// ran declared a policy (counted per response key *and* field name, so neither an alias
    /// nor two fields merged under one key can pass an undeclared one off as declared), and
    /// every key of the data belongs to a field seen running (only an unaliased `__typename`
    /// is answered without running).
    pub fn covers<'a>(&self, mut roots: impl Iterator<Item = &'a str>) -> bool {
        let count = |list: &[(String, String)], field: &(String, String)| {
            list.iter().filter(|f| *f == field).count()
        };
        let declared = self.ran.iter().all(|field| {
            SCHEMA_FIELDS.contains(&field.1.as_str())
                || count(&self.declared, field) >= count(&self.ran, field)
        });
        declared && roots.all(|key| key == "__typename" || self.ran.iter().any(|(k, _)| k == key))
    }
}

impl RequestScope {
    /// A record for a request beginning now.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            reads: Mutex::new(Reads::default()),
            refresh: Arc::default(),
        })
    }

    /// A second record of the same request (same start, nothing recorded yet).
    pub fn sibling(&self) -> Arc<Self> {
        Arc::new(Self {
            start: self.start,
            reads: Mutex::new(Reads::default()),
            refresh: self.refresh.clone(),
        })
    }

    /// What was recorded.
    pub fn reads(&self) -> Reads {
        self.reads.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Runs `fut` as the request recorded by `scope` (holding `fut` once: see [`capture`]).
pub(crate) fn scope<F: std::future::Future>(
    scope: Arc<RequestScope>,
    fut: F,
) -> impl std::future::Future<Output = F::Output> {
    SCOPE.scope(scope, fut)
}

/// Runs `fut` recording into a record of its own (begun when the current one began, if any)
/// and returns what it read, to be [`replay`]ed wherever its result is used. The record is
/// begun when this is called: await it in the request that calls it.
///
/// A combinator, not an `async fn` or block: one of those would hold `fut` twice (as its
/// argument or capture, and again as what it awaits), and every resolver future above it would
/// be that much larger, copied whole at each move.
pub(crate) fn capture<F: std::future::Future>(
    fut: F,
) -> impl std::future::Future<Output = (F::Output, Reads)> {
    let (start, refresh) = SCOPE
        .try_with(|s| (s.start, s.refresh.clone()))
        .unwrap_or_else(|_| (Instant::now(), Arc::default()));
    let scope = Arc::new(RequestScope {
        start,
        reads: Mutex::new(Reads::default()),
        refresh,
    });
    SCOPE.scope(scope.clone(), fut).map(move |out| {
        // The record is ours alone once `fut` is done: taken, not copied.
        let reads = match Arc::try_unwrap(scope) {
            Ok(scope) => scope.reads.into_inner().unwrap_or_else(|p| p.into_inner()),
            Err(shared) => shared.reads(),
        };
        (out, reads)
    })
}

/// Records `captured` into the current request, as if it had been read again now (entries
/// already recorded are not repeated).
pub(crate) fn replay(captured: &Reads) {
    with(|r| {
        for (key, entry) in &captured.deps {
            if !r
                .deps
                .iter()
                .any(|(k, e)| k == key && Arc::ptr_eq(e, entry))
            {
                r.deps.push((key.clone(), entry.clone()));
            }
        }
        r.uncacheable |= captured.uncacheable;
        r.named.extend(captured.named.iter().cloned());
        r.unnamed.extend(captured.unnamed.iter().cloned());
        r.authenticated |= captured.authenticated;
        r.admin |= captured.admin;
        if r.caller.is_none() {
            r.caller = captured.caller;
        } else if captured.caller.is_some() && captured.caller != r.caller {
            // Two callers in one response cannot be served to either: keep it for none.
            r.uncacheable = true;
        }
    });
}

/// Asks the current request's tagged hits to refresh their entries early.
pub fn want_refresh() {
    let _ = SCOPE.try_with(|s| s.refresh.store(true, Ordering::Relaxed));
}

/// Whether the current request's tagged hits should refresh their entries early.
pub(crate) fn refresh_wanted() -> bool {
    SCOPE
        .try_with(|s| s.refresh.load(Ordering::Relaxed))
        .unwrap_or(false)
}

/// When the current request began, if running in a scope.
pub fn started() -> Option<Instant> {
    SCOPE.try_with(|s| s.start).ok()
}

fn with(f: impl FnOnce(&mut Reads)) {
    let _ = SCOPE.try_with(|s| f(&mut s.reads.lock().unwrap_or_else(|p| p.into_inner())));
}

/// The root field `name`, answering under the response key `key`, declared a policy.
pub(crate) fn declare(key: &str, name: &str) {
    with(|r| r.declared.push((key.to_owned(), name.to_owned())));
}

/// The root field `name` ran, answering under the response key `key`.
pub(crate) fn ran(key: &str, name: &str) {
    with(|r| r.ran.push((key.to_owned(), name.to_owned())));
}

/// The request was answered from `entry` at `key`.
pub(crate) fn record(key: &str, entry: &Arc<Entry>) {
    with(|r| r.deps.push((key.to_owned(), entry.clone())));
}

/// The request was answered from what `tag` (a tag, or `kind:id`) names, but not from an
/// entry of it.
pub(crate) fn named(tag: impl FnOnce() -> String) {
    with(|r| r.named.push(tag()));
}

/// The request was answered from something other than a cache entry (an extension's
/// resolver may say so of what it builds; nothing it says can make a response cacheable).
pub fn uncacheable() {
    with(|r| r.uncacheable = true);
}

/// The response depends on the caller `id`.
pub(crate) fn caller(id: i64) {
    with(|r| r.caller = Some(id));
}

/// The request needed an admin.
pub(crate) fn admin() {
    with(|r| r.admin = true);
}

/// The request needed an authenticated caller.
pub(crate) fn authenticated() {
    with(|r| r.authenticated = true);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A future that holds `N` bytes across its await (for tests of what wraps futures).
    pub(crate) async fn holding<const N: usize>() -> usize {
        let bytes = [1u8; N];
        tokio::task::yield_now().await;
        bytes.iter().map(|&b| usize::from(b)).sum()
    }

    /// `capture` and `scope` wrap every resolver's cached read: an `async fn` in their place
    /// would hold its future twice, and the root field future async-graphql boxes (and copies)
    /// for every executed request would grow with each such layer.
    #[tokio::test]
    async fn capture_and_scope_hold_their_future_once() {
        let inner = std::mem::size_of_val(&holding::<8192>());
        assert!(inner >= 8192);
        let captured = capture(holding::<8192>());
        assert!(std::mem::size_of_val(&captured) < inner + 512);
        let record = Arc::new(RequestScope {
            start: Instant::now(),
            reads: Mutex::new(Reads::default()),
            refresh: Arc::default(),
        });
        let scoped = scope(record, capture(holding::<8192>()));
        assert!(std::mem::size_of_val(&scoped) < inner + 1024);
        assert_eq!(scoped.await.0, 8192);
        assert_eq!(captured.await.0, 8192);
    }
}
