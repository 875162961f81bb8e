//! GraphQL output and input types. Domain values are wrapped, not exposed: the schema is ours
//! to keep stable whatever the database looks like.
use async_graphql::{Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    cache::{CacheReport, Counts, UserCounts},
    users::{self, Role},
};

/// `User`.
pub struct User(pub users::User);

#[Object(name = "User")]
impl User {
    /// Integer primary key, serialized as a string.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Stored lower-cased.
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn full_name(&self) -> &str {
        &self.0.full_name
    }
    async fn is_active(&self) -> bool {
        self.0.is_active
    }
    async fn role(&self) -> Role {
        self.0.role
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// The result of `login`.
#[derive(SimpleObject)]
pub struct AuthPayload {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    pub user: User,
}

/// Counts over all users (cached; invalidated by a create, a delete, or a change of a role or
/// `isActive`).
#[derive(SimpleObject)]
pub struct UserStats {
    pub total: i64,
    pub active: i64,
    pub admins: i64,
}

impl From<UserCounts> for UserStats {
    fn from(c: UserCounts) -> Self {
        Self {
            total: c.total as i64,
            active: c.active as i64,
            admins: c.admins as i64,
        }
    }
}

/// Whether the cache answers.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Available,
    Unavailable,
}

/// One kind of cache entry's counters in this process.
#[derive(SimpleObject)]
pub struct CacheKindStats {
    /// `user`, `email`, `list` or `aggregate`.
    pub kind: String,
    pub hits: i64,
    pub misses: i64,
    pub errors: i64,
    /// Lookups answered by a database load another request made (single-flight or lease).
    pub shared: i64,
    pub hit_rate: f64,
}

/// `cacheStats`.
#[derive(SimpleObject)]
pub struct CacheStats {
    pub status: CacheStatus,
    /// `redis`, `memory` or `none`.
    pub backend: String,
    /// This server process, since start: lookups answered by the cache.
    pub hits: i64,
    /// Lookups answered by the database.
    pub misses: i64,
    pub errors: i64,
    /// hits / (hits + misses) * 100, rounded to 2 decimals; 0 when both are 0.
    pub hit_rate: f64,
    /// Keys under this server's namespace; null when unavailable.
    pub keys: Option<i64>,
    /// Bytes (Redis `used_memory`); null when unavailable.
    pub used_memory: Option<i64>,
    pub used_memory_human: Option<String>,
    pub connected_clients: Option<i64>,
    /// Redis server-wide INFO counters.
    pub keyspace_hits: Option<i64>,
    pub keyspace_misses: Option<i64>,
    /// The same counters by kind of entry.
    pub by_kind: Vec<CacheKindStats>,
    /// Whole responses served from this process's response cache; null when it is off.
    pub responses_served: Option<i64>,
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl From<CacheReport> for CacheStats {
    fn from(r: CacheReport) -> Self {
        let kind = |(k, c): (crate::cache::Kind, Counts)| CacheKindStats {
            kind: k.as_str().to_owned(),
            hits: int(c.hits),
            misses: int(c.misses),
            errors: int(c.errors),
            shared: int(c.shared),
            hit_rate: c.hit_rate(),
        };
        Self {
            status: if r.available {
                CacheStatus::Available
            } else {
                CacheStatus::Unavailable
            },
            backend: r.backend.to_owned(),
            hits: int(r.total.hits),
            misses: int(r.total.misses),
            errors: int(r.total.errors),
            hit_rate: r.total.hit_rate(),
            keys: r.keys.map(int),
            used_memory: r.server.used_memory,
            used_memory_human: r.server.used_memory_human,
            connected_clients: r.server.connected_clients,
            keyspace_hits: r.server.keyspace_hits,
            keyspace_misses: r.server.keyspace_misses,
            by_kind: r.by_kind.into_iter().map(kind).collect(),
            responses_served: r.responses_served.map(int),
        }
    }
}

/// `clearCache`'s result.
#[derive(SimpleObject)]
pub struct ClearCacheResult {
    /// How many keys were deleted.
    pub cleared: i64,
    /// The pattern, relative to the namespace.
    pub pattern: String,
}

/// What an invalidation dropped.
#[derive(SimpleObject)]
pub struct Invalidation {
    /// Cache entries dropped: for a tag, those of the generation the purge moved past.
    pub entries: i64,
    /// Whole responses this instance had kept that were built from them (other instances drop
    /// theirs as the entries change, uncounted here).
    pub responses: i64,
    /// Whether the purge was soft.
    pub soft: bool,
}

impl Invalidation {
    /// From what the cache dropped.
    pub fn new(purged: crate::cache::Purged, soft: bool) -> Self {
        Self {
            entries: purged.entries as i64,
            responses: purged.responses as i64,
            soft,
        }
    }
}

/// `createUser`'s input.
#[derive(InputObject)]
pub struct CreateUserInput {
    pub email: String,
    pub full_name: String,
    pub password: String,
    #[graphql(default_with = "Some(Role::User)")]
    pub role: Option<Role>,
    #[graphql(default_with = "Some(true)")]
    pub is_active: Option<bool>,
}

impl From<CreateUserInput> for users::CreateUser {
    fn from(i: CreateUserInput) -> Self {
        Self {
            email: i.email,
            full_name: i.full_name,
            password: i.password,
            role: i.role.unwrap_or(Role::User),
            is_active: i.is_active.unwrap_or(true),
        }
    }
}

/// `updateUser`'s input: only the fields given change.
#[derive(InputObject)]
pub struct UpdateUserInput {
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub password: Option<String>,
    pub is_active: Option<bool>,
    pub role: Option<Role>,
}

impl From<UpdateUserInput> for users::UpdateUser {
    fn from(i: UpdateUserInput) -> Self {
        Self {
            email: i.email,
            full_name: i.full_name,
            password: i.password,
            is_active: i.is_active,
            role: i.role,
        }
    }
}
