//! The one way a resolver opts into caching: [`cached`] with the resolver's [`Policy`],
//! declared as a `const` beside it.
//!
//! The declaration is what the whole-response cache reads: a root field that ran through
//! [`cached`] may be part of a kept response (per caller if its scope says so); one that did
//! not makes its response uncacheable. The data half of the policy (tag, TTL, kind) is applied
//! by [`Cached::load`]; entities cached by their own protocol need only the declaration.
use std::future::Future;

use async_graphql::{Context, QueryPathSegment};
use futures::FutureExt;
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    cache::{
        Cache,
        page::Page,
        policy::{Policy, Scope},
        request,
    },
    error::{AppError, AppResult},
    graphql::guards::{state, viewer},
};

/// A resolver running under its declared policy.
pub struct Cached<'c> {
    cache: &'c Cache,
    policy: Policy,
    caller: Option<i64>,
}

/// Declares that the calling resolver answers under `policy`. A per-caller policy needs an
/// authenticated caller (`UNAUTHENTICATED` otherwise), and its response is kept for that caller
/// alone.
pub async fn cached<'c>(ctx: &'c Context<'_>, policy: Policy) -> AppResult<Cached<'c>> {
    let caller = match policy.scope {
        Scope::Shared => None,
        Scope::Caller => {
            let id = viewer(ctx).await?.id();
            request::caller(id);
            Some(id)
        }
    };
    // Only a root field's declaration counts: a nested one cannot vouch for its root's siblings.
    if let Some(node) = ctx.path_node.as_ref()
        && node.parent.is_none()
        && let QueryPathSegment::Name(key) = node.segment
    {
        request::declare(key, &ctx.item.node.name.node);
    }
    Ok(Cached {
        cache: &state(ctx)?.cache,
        policy,
        caller,
    })
}

impl Cached<'_> {
    /// The policy declared.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Get-or-load of the entry `name` under the policy's tag, TTL and kind (per caller, the
    /// entry is `caller:{id}:{name}`; a shared name may not start with `caller:`, nor be `gen`
    /// or end in `:lease`: such a name is loaded every time). `load`'s errors are returned,
    /// never cached. A hit close to its expiry may run `load` in the background to refresh the
    /// entry early, so `load` owns what it uses (clone the handles it needs into it).
    pub async fn load<T, F, Fut>(&self, name: &str, load: F) -> AppResult<T>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = AppResult<T>> + Send + 'static,
    {
        self.load_if(name, |_| true, load).await
    }

    /// [`Cached::load`] for a page of a list whose bounds the client chose. `load(skip, limit)`
    /// loads the rows of a page; it is asked for the page that may be stored and covers this
    /// one ([`Page::covering`]), and this page is cut from it. That page is stored only if it
    /// [`Page::keeps`] the rows loaded, so however many pages clients ask for, the cache holds a
    /// bounded number (see [`Page`]). A page that no page covers, or any page while the cache
    /// is unavailable, is loaded as asked every time, and its response is not kept.
    pub async fn load_page<T, F, Fut>(&self, page: Page, load: F) -> AppResult<Vec<T>>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce(i32, i32) -> Fut + Send + 'static,
        Fut: Future<Output = AppResult<Vec<T>>> + Send + 'static,
    {
        // The covering page only when it may be stored: without the cache a load serves this
        // request alone, so it reads what was asked, not the rows around it.
        let covering = page.covering().filter(|_| self.cache.is_available());
        let Some(covering) = covering else {
            // Built from the list all the same: its tag is named (`Cache-Tag`), not depended on,
            // and the response is never kept, whatever entries `load` itself read.
            if let Some(tag) = self.policy.tag {
                request::named(|| tag.to_owned());
            }
            // (`counted_miss` marks the response uncacheable.)
            self.cache.counted_miss(self.policy.kind);
            return load(page.skip(), page.limit()).await;
        };
        let (skip, limit) = (covering.skip(), covering.limit());
        let keep = move |rows: &Vec<T>| covering.keeps(rows);
        let rows = self
            .load_if(&covering.name(), keep, move || load(skip, limit))
            .await?;
        Ok(page.cut(&covering, rows))
    }

    async fn load_if<T, F, Fut>(
        &self,
        name: &str,
        keep: impl Fn(&T) -> bool + Send + 'static,
        load: F,
    ) -> AppResult<T>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = AppResult<T>> + Send + 'static,
    {
        let name = match self.caller {
            // Shared names may not look like a caller's own.
            None if name.starts_with("caller:") => return vouched(load()).await,
            None => std::borrow::Cow::Borrowed(name),
            Some(caller) => std::borrow::Cow::Owned(format!("caller:{caller}:{name}")),
        };
        vouched(self.policy.load(self.cache, &name, keep, load)).await
    }

    /// Runs `resolve` under the declaration (for data cached by its own protocol, such as an
    /// [`crate::cache::entity::EntityCache`]).
    /// What `resolve` reads must come from the cache for the response to be kept: if it read no
    /// cache entry at all (it went to the database, or built its answer from nothing the cache
    /// can invalidate), the response is not kept.
    pub fn run<T, E>(
        &self,
        resolve: impl Future<Output = Result<T, E>>,
    ) -> impl Future<Output = AppResult<T>>
    where
        AppError: From<E>,
    {
        vouched(resolve).map(|r| Ok(r?))
    }
}

/// Runs `fut`, and makes the response uncacheable unless it was answered from cache entries.
/// A combinator, so that `fut` is held once (see [`request::capture`]).
fn vouched<F: Future>(fut: F) -> impl Future<Output = F::Output> {
    request::capture(fut).map(|(out, mut reads)| {
        if reads.deps.is_empty() {
            reads.uncacheable = true;
        }
        request::replay(&reads);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::request::tests::holding;

    /// `vouched` wraps every cached resolver's read: it holds what it wraps once.
    #[tokio::test]
    async fn vouched_holds_its_future_once() {
        let inner = std::mem::size_of_val(&holding::<8192>());
        let wrapped = vouched(holding::<8192>());
        assert!(std::mem::size_of_val(&wrapped) < inner + 512);
        assert_eq!(wrapped.await, 8192);
    }
}
