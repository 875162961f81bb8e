//! Users through the cache: cache-aside reads and write-through after commits, following the
//! protocol in [`super::protocol`].
//!
//! Reads: `user:{id}` (also the current-user lookup of every authenticated request), `email:{e}`
//! pointers, and the `users` tag for pages and `userStats`. Writes: after the database commit,
//! set-if-newer of the user's entry (a tombstone on delete), the email pointers, and one
//! increment of the `users` tag. A write that cannot reach the cache records what it owed and
//! the prober repairs it from the database before the cache is used again.
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{
    Cache, CacheError, Kind,
    health::Dirty,
    pause::Point,
    protocol::{self, ABSENT, TOMBSTONE},
};
use crate::{
    db::{DbError, UserRepo, UserRow},
    users::User,
};

/// The tag of every list and aggregate derived from the users table.
pub const USERS_TAG: &str = "users";
/// How long "no user with this id" is cached; a create replaces it at once anyway.
const ABSENT_TTL: Duration = Duration::from_secs(15);

/// `userStats`: computed from the database, cached under the `users` tag.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserCounts {
    pub total: u64,
    pub active: u64,
    pub admins: u64,
}

/// The repository wrapped by the cache. Resolvers reach users through this (via the service).
#[derive(Clone)]
pub struct CachedUsers {
    repo: UserRepo,
    cache: Cache,
}

impl CachedUsers {
    /// Wraps `repo` with `cache` and starts the prober that repairs the cache after outages.
    pub fn new(repo: UserRepo, cache: Cache) -> Self {
        let this = Self { repo, cache };
        let repairer = this.clone();
        this.cache.spawn_prober(move |owed| {
            let repairer = repairer.clone();
            async move { repairer.repair(&owed).await }
        });
        this
    }

    /// The repository underneath (for writes, login and health checks).
    pub fn repo(&self) -> &UserRepo {
        &self.repo
    }

    /// The cache (for stats and clearing).
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    fn user_key(&self, id: i64) -> String {
        self.cache.key(format_args!("user:{id}"))
    }

    fn email_key(&self, email: &str) -> String {
        self.cache.key(format_args!("email:{email}"))
    }

    /// The user with this id: cache-aside on `user:{id}`.
    pub async fn get(&self, id: i64) -> Result<Option<User>, DbError> {
        if !self.cache.is_available() {
            self.cache.counted_miss(Kind::User);
            return Ok(self.repo.find_by_id(id).await?.map(User::from));
        }
        let key = self.user_key(id);
        // Read the fence before the cache: see `Cache::miss`.
        let fence = self.cache.epoch();
        match self.read_user(&key).await {
            Ok(Some(user)) => {
                self.cache.stats().hit(Kind::User);
                tracing::debug!(key, "cache hit");
                return Ok(user);
            }
            Ok(None) => {}
            Err(err) => {
                self.cache.failed(Kind::User, &err);
                self.cache.counted_miss(Kind::User);
                return Ok(self.repo.find_by_id(id).await?.map(User::from));
            }
        }
        let recheck = || async { self.read_user(&key).await.ok().flatten() };
        let load = || async { Ok(self.repo.find_by_id(id).await?.map(User::from)) };
        let fill = |user: &Option<User>| self.fill_user(id, user.clone());
        self.cache
            .miss(Kind::User, &key, fence, load, Some(recheck), fill)
            .await
    }

    /// `Some(user or None)` when the cache holds a well-formed entry for `key`.
    async fn read_user(&self, key: &str) -> Result<Option<Option<User>>, CacheError> {
        Ok(match self.cache.get(key).await? {
            Some(entry) => {
                let user = entry.decoded(decode_user);
                if user.is_none() {
                    tracing::warn!(key, "undecodable cache entry; reloading");
                }
                user.map(|u| Option::clone(&u))
            }
            None => None,
        })
    }

    /// Stores what a read loaded, unless the cache already holds something newer.
    async fn fill_user(&self, id: i64, user: Option<User>) {
        let (version, ttl) = match &user {
            Some(u) => (u.version as u64, Cache::jitter(self.cache.user_ttl())),
            None => (ABSENT, ABSENT_TTL.min(self.cache.user_ttl())),
        };
        let key = self.user_key(id);
        match self
            .write_user_entry(&key, version, user.as_ref(), ttl)
            .await
        {
            Ok(true) => tracing::debug!(key, version, "cache fill"),
            Ok(false) => tracing::debug!(key, version, "cache fill dropped: newer entry held"),
            Err(err) => self.cache.failed(Kind::User, &err),
        }
    }

    async fn write_user_entry(
        &self,
        key: &str,
        version: u64,
        user: Option<&User>,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let json = match user {
            Some(u) => serde_json::to_string(u).map_err(|e| CacheError::Decode(e.to_string()))?,
            None => "null".to_owned(),
        };
        self.cache
            .set_if_newer(key, version, &protocol::versioned(version, &json), ttl)
            .await
    }

    /// The user with this (normalised) email: the `email:` pointer, checked against the user
    /// entry it leads to.
    pub async fn by_email(&self, email: &str) -> Result<Option<User>, DbError> {
        let key = self.email_key(email);
        let fence = self.cache.epoch();
        let mut stale_pointer = false;
        if self.cache.is_available() {
            match self.cache.get(&key).await {
                Ok(Some(pointer)) => {
                    if let Ok(id) = pointer.raw().parse::<i64>() {
                        match self.get(id).await? {
                            Some(user) if user.email == email => {
                                self.cache.stats().hit(Kind::Email);
                                tracing::debug!(key, "cache hit");
                                return Ok(Some(user));
                            }
                            _ => stale_pointer = true,
                        }
                    }
                }
                Ok(None) => {}
                Err(err) => self.cache.failed(Kind::Email, &err),
            }
        }
        if !self.cache.is_available() {
            self.cache.counted_miss(Kind::Email);
            return Ok(self.repo.find_by_email(email).await?.map(User::from));
        }
        let load = || async { Ok(self.repo.find_by_email(email).await?.map(User::from)) };
        let fill = |user: &Option<User>| {
            let user = user.clone();
            let key = &key;
            async move {
                let result = match user {
                    Some(u) => {
                        let id = u.id.to_string();
                        self.fill_user(u.id, Some(u)).await;
                        self.cache
                            .set(key, &id, Cache::jitter(self.cache.user_ttl()))
                            .await
                    }
                    // Misses by email are not cached; a pointer that led astray goes.
                    None if stale_pointer => self.cache.del(&[key]).await,
                    None => Ok(()),
                };
                if let Err(err) = result {
                    self.cache.failed(Kind::Email, &err);
                }
            }
        };
        // No lease for emails: a pointer cannot be rechecked without the user entry.
        let no_lease: Option<NoRecheck> = None;
        self.cache
            .miss(Kind::Email, &key, fence, load, no_lease, fill)
            .await
    }

    /// A page of users, cached under the `users` tag.
    pub async fn list(&self, skip: u64, limit: u64) -> Result<Vec<User>, DbError> {
        self.cache
            .tagged(
                Kind::List,
                USERS_TAG,
                &format!("list:{skip}:{limit}"),
                None,
                || async {
                    Ok(self
                        .repo
                        .list(skip, limit)
                        .await?
                        .into_iter()
                        .map(User::from)
                        .collect())
                },
            )
            .await
    }

    /// Counts of users, cached under the `users` tag.
    pub async fn counts(&self) -> Result<UserCounts, DbError> {
        self.cache
            .tagged(Kind::Aggregate, USERS_TAG, "stats", None, || async {
                let (total, active, admins) = self.repo.counts().await?;
                Ok(UserCounts {
                    total,
                    active,
                    admins,
                })
            })
            .await
    }

    // ---- write-through, after the database commit ----

    /// After an insert: the new entry, its email pointer, and every list invalidated.
    pub async fn created(&self, row: &UserRow) {
        let user = User::from(row.clone());
        self.write_through(&user, None).await;
    }

    /// After an update: the new entry (set-if-newer), the old email's pointer removed, the new
    /// one written, and every list invalidated.
    pub async fn updated(&self, old_email: &str, row: &UserRow) {
        let user = User::from(row.clone());
        let old = (old_email != user.email).then_some(old_email);
        self.write_through(&user, old).await;
    }

    async fn write_through(&self, user: &User, old_email: Option<&str>) {
        self.cache.advance_epoch();
        let key = self.user_key(user.id);
        self.cache.pause_at(Point::BeforeWriteThrough, &key).await;
        let email_key = self.email_key(&user.email);
        let old_key = old_email.map(|e| self.email_key(e));
        let write = async {
            if !self.cache.can_write() {
                return Err(CacheError::Unavailable);
            }
            let ttl = Cache::jitter(self.cache.user_ttl());
            let entry = self.write_user_entry(&key, user.version as u64, Some(user), ttl);
            let id = user.id.to_string();
            let pointer = self.cache.set(&email_key, &id, ttl);
            let unlink = async {
                match &old_key {
                    Some(k) => self.cache.del(&[k]).await,
                    None => Ok(()),
                }
            };
            let (entry, pointer, unlink) = tokio::join!(entry, pointer, unlink);
            entry.and(pointer).and(unlink)
        };
        // The list invalidation does not wait for the write-through: one round trip, not two.
        let (result, tag) = tokio::join!(write, self.cache.try_invalidate_tag(USERS_TAG));
        self.settle_write(
            user.id,
            [Some(user.email.as_str()), old_email],
            &key,
            result,
            tag,
        )
        .await;
    }

    /// After a delete: a tombstone (so no late fill can bring the user back), the pointer
    /// removed, and every list invalidated.
    pub async fn deleted(&self, row: &UserRow) {
        self.cache.advance_epoch();
        let key = self.user_key(row.id);
        self.cache.pause_at(Point::BeforeWriteThrough, &key).await;
        let email_key = self.email_key(&row.email);
        let write = async {
            if !self.cache.can_write() {
                return Err(CacheError::Unavailable);
            }
            let tombstone = self.write_user_entry(&key, TOMBSTONE, None, self.cache.user_ttl());
            let doomed = [email_key.as_str()];
            let unlink = self.cache.del(&doomed);
            let (tombstone, unlink) = tokio::join!(tombstone, unlink);
            tombstone.and(unlink)
        };
        let (result, tag) = tokio::join!(write, self.cache.try_invalidate_tag(USERS_TAG));
        self.settle_write(row.id, [Some(row.email.as_str()), None], &key, result, tag)
            .await;
    }

    /// Records what a failed write-through (and list invalidation) owed, for repair by every
    /// instance; returns when the write may be acknowledged.
    async fn settle_write<T>(
        &self,
        id: i64,
        emails: [Option<&str>; 2],
        key: &str,
        result: Result<T, CacheError>,
        tag: Result<(), (Dirty, CacheError)>,
    ) {
        let (mut owed, mut cause) = match tag {
            Ok(()) => (Dirty::default(), None),
            Err((owed, err)) => (owed, Some(err)),
        };
        match result {
            Ok(_) => tracing::debug!(key, "cache write-through"),
            Err(err) if self.cache.has_backend() => {
                tracing::debug!(key, error = %err, "cache write-through failed; repair recorded");
                self.cache.stats().error(Kind::User);
                owed.users.insert(id);
                owed.emails
                    .extend(emails.into_iter().flatten().map(str::to_owned));
                cause = Some(err);
            }
            Err(_) => {}
        }
        if let Some(err) = cause {
            self.cache.owe(owed, &err).await;
        }
    }

    /// Repairs what writes during an outage could not update: each user's entry rewritten from
    /// the database (set-if-newer, or a tombstone when the row is gone), pointers removed, tags
    /// bumped. On failure, returns what is left.
    async fn repair(&self, owed: &Dirty) -> Result<(), CacheError> {
        if owed.overflow {
            // Every user entry, every pointer, and every tag's generation (restarted later
            // from Redis's clock, past any value an entry was stamped with).
            for pattern in ["user:*", "email:*", "{*}:gen"] {
                self.cache
                    .clear_for_repair(pattern)
                    .await
                    .map_err(|err| match err {
                        super::ClearError::Cache(e) => e,
                        super::ClearError::Pattern(e) => CacheError::Decode(e.to_string()),
                    })?;
            }
        }
        for &id in &owed.users {
            let row = self
                .repo
                .find_by_id(id)
                .await
                .map_err(|e| CacheError::Repair(e.to_string()))?
                .map(User::from);
            let key = self.user_key(id);
            match &row {
                Some(user) => {
                    let ttl = Cache::jitter(self.cache.user_ttl());
                    self.write_user_entry(&key, user.version as u64, Some(user), ttl)
                        .await?
                }
                None => {
                    self.write_user_entry(&key, TOMBSTONE, None, self.cache.user_ttl())
                        .await?
                }
            };
        }
        for email in &owed.emails {
            self.cache.del(&[&self.email_key(email)]).await?;
        }
        for tag in &owed.tags {
            self.cache.bump_tag(tag).await?;
        }
        tracing::info!(
            users = owed.users.len(),
            emails = owed.emails.len(),
            overflow = owed.overflow,
            "cache repaired after outage"
        );
        Ok(())
    }
}

type NoRecheck = fn() -> std::future::Ready<Option<Option<User>>>;

/// `Some(user)` or `Some(None)` (absent or deleted) for a well-formed entry.
fn decode_user(entry: &str) -> Option<Option<User>> {
    protocol::leading_number(entry, "v")?;
    let data = protocol::data(entry)?;
    if data == "null" {
        return Some(None);
    }
    serde_json::from_str(data).ok().map(Some)
}
