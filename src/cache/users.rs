//! Users through the cache: one [`Versioned`] entity (`user:{id}`, pointed to by
//! `email:{email}`) and two tags under which the resolvers keep what is derived from the users
//! table: `users` (the pages, moved by a create or a delete) and `user-counts` (`userStats`,
//! moved also by a change of a role or `isActive`) (their policies are declared beside them, in
//! `graphql::roots::users`). Every protocol step is the generic one of [`super::entity`].
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{
    Announcement, Cache,
    entity::{EntityCache, Pointer, Source, Versioned, durable},
};
use crate::{
    db::{DbError, NewUser, Updated, UserChanges, UserRepo},
    domain::User,
};

/// The tag of the pages of users: they hold ids (each user is read through its own entry), so
/// only a create or a delete, which shifts every page, changes them.
pub const USERS_TAG: &str = "users";
/// The tag of `userStats`: changed by a create, a delete, and an update of a role or of
/// `isActive` (the fields it counts).
pub const USER_COUNTS_TAG: &str = "user-counts";

/// `userStats`: computed from the database.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserCounts {
    pub total: u64,
    pub active: u64,
    pub admins: u64,
}

impl Versioned for User {
    const KIND: &'static str = "user";
    const TAGS: &'static [&'static str] = &[USERS_TAG, USER_COUNTS_TAG];
    fn changed_tags(before: &Self, after: &Self) -> &'static [&'static str] {
        // `before` is read just ahead of the update: only when no other write came between
        // (the version moved on by exactly one) does it say what this update changed.
        let adjacent = after.version == before.version + 1;
        if adjacent && before.role == after.role && before.is_active == after.is_active {
            &[]
        } else {
            &[USER_COUNTS_TAG]
        }
    }
    fn id(&self) -> i64 {
        self.id
    }
    fn version(&self) -> u64 {
        self.version as u64
    }
}

impl Source<User> for UserRepo {
    async fn load(&self, id: i64) -> Result<Option<User>, DbError> {
        Ok(self.find_by_id(id).await?.map(User::from))
    }
    async fn load_by(&self, email: &str) -> Result<Option<User>, DbError> {
        Ok(self.find_by_email(email).await?.map(User::from))
    }
    async fn load_many(&self, ids: &[i64]) -> Result<Vec<User>, DbError> {
        Ok(self
            .find_by_ids(ids)
            .await?
            .into_iter()
            .map(User::from)
            .collect())
    }
}

/// What an update may move: a tag (`userStats` counts the role and `isActive`), and the email
/// pointer. Only when it may move either must the row before it be read, to know what moved;
/// only when it may move a tag is it announced (see `cache::announce`).
struct Touches {
    tags: bool,
    pointer: bool,
}

impl Touches {
    fn of(changes: &UserChanges) -> Self {
        // Every field named, so a new one must be placed on one side or the other.
        let UserChanges {
            email,
            role,
            is_active,
            full_name: _,
            password_hash: _,
        } = changes;
        Touches {
            tags: role.is_some() || is_active.is_some(),
            pointer: email.is_some(),
        }
    }
}

/// The repository wrapped by the cache. Resolvers reach users through this (via the service).
#[derive(Clone)]
pub struct CachedUsers {
    repo: UserRepo,
    cache: Cache,
    users: Arc<EntityCache<User, UserRepo>>,
}

impl CachedUsers {
    /// Wraps `repo` with `cache`; users become repairable after outages.
    pub fn new(repo: UserRepo, cache: Cache) -> Self {
        let email = Pointer {
            name: "email",
            of: |u: &User| u.email.as_str(),
        };
        let users = EntityCache::new(cache.clone(), repo.clone(), Some(email), cache.user_ttl());
        Self { repo, cache, users }
    }

    /// The repository underneath, for what the cache does not serve (login, the admin
    /// bootstrap check, health). Writes go through [`CachedUsers::insert`], `update` and
    /// `delete`, which own "commit, then write through".
    pub fn repo(&self) -> &UserRepo {
        &self.repo
    }

    /// The cache (for stats and clearing).
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// The user with this id: cache-aside on `user:{id}`.
    pub async fn get(&self, id: i64) -> Result<Option<User>, DbError> {
        self.users.get(id).await
    }

    /// The users with these ids, in order, each through its own entry (`None` for an id with no
    /// user): a page's members.
    pub async fn get_many(&self, ids: &[i64]) -> Result<Vec<Option<User>>, DbError> {
        self.users.get_many(ids).await
    }

    /// Fills the entries of users just loaded (a page's members).
    pub async fn filled(&self, loaded: &[User]) {
        self.users.filled(loaded).await;
    }

    /// The user with this (normalised) email: the `email:` pointer, checked against the user
    /// entry it leads to.
    pub async fn by_email(&self, email: &str) -> Result<Option<User>, DbError> {
        self.users.by_pointer(email).await
    }

    // ---- writes: the commit, then the write-through, as one call that survives its caller ----

    /// Inserts a user at version 1, then writes it through: its entry, its email pointer,
    /// every page and `userStats` invalidated. Returns once the write may be acknowledged.
    pub async fn insert(&self, new: NewUser) -> Result<User, DbError> {
        let this = self.clone();
        durable(async move {
            let announced = this.cache.announce(User::KIND).await;
            match this.repo.insert(new).await {
                Ok(row) => {
                    let user = User::from(row);
                    this.users.written(announced, &user, None).await;
                    Ok(user)
                }
                Err(err) => {
                    this.users.retire(announced);
                    Err(err)
                }
            }
        })
        .await
    }

    /// Applies `changes` (the version moves on in the same statement), then writes through:
    /// the entry (set-if-newer), the old email's pointer removed, the new one written, and
    /// `userStats` invalidated if a role or `isActive` changed (pages hold ids: an update moves
    /// none). A change of the name or password alone moves neither pointer nor counts: the row
    /// is not read before it, and only the entry is written. `None` when there is no such user.
    pub async fn update(&self, id: i64, changes: UserChanges) -> Result<Option<User>, DbError> {
        let this = self.clone();
        durable(async move {
            let touches = Touches::of(&changes);
            let read_before = touches.tags || touches.pointer;
            let announced = if touches.tags {
                this.cache.announce(User::KIND).await
            } else {
                Announcement::NONE
            };
            let (before, after) = match this.repo.update(id, changes, read_before).await {
                Ok(Some(Updated { before, after })) => (before, after),
                other => {
                    this.users.retire(announced);
                    return other.map(|_| None);
                }
            };
            let user = User::from(after);
            match before {
                Some(before) => {
                    let before = User::from(before);
                    this.users.changed(announced, &before, &user).await;
                }
                None => this.users.rewritten(announced, &user).await,
            }
            Ok(Some(user))
        })
        .await
    }

    /// Deletes a user, then writes a tombstone, removes the pointer and invalidates every page
    /// and `userStats`.
    /// `false` when there was no such user.
    pub async fn delete(&self, id: i64) -> Result<bool, DbError> {
        let this = self.clone();
        durable(async move {
            let announced = this.cache.announce(User::KIND).await;
            match this.repo.delete(id).await {
                Ok(Some(row)) => {
                    this.users.deleted(announced, &User::from(row)).await;
                    Ok(true)
                }
                other => {
                    this.users.retire(announced);
                    other.map(|_| false)
                }
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    fn user(version: i64, role: Role, is_active: bool) -> User {
        let now = chrono::Utc::now();
        User {
            id: 7,
            email: "u@example.com".into(),
            full_name: "U".into(),
            is_active,
            role,
            created_at: now,
            updated_at: now,
            version,
        }
    }

    #[test]
    fn only_a_change_of_what_is_counted_moves_the_counts() {
        let before = user(3, Role::User, true);
        let rename = user(4, Role::User, true);
        assert!(User::changed_tags(&before, &rename).is_empty());
        assert_eq!(
            User::changed_tags(&before, &user(4, Role::Admin, true)),
            [USER_COUNTS_TAG]
        );
        assert_eq!(
            User::changed_tags(&before, &user(4, Role::User, false)),
            [USER_COUNTS_TAG]
        );
        // Another write came between the read of `before` and this update: it may have changed
        // a counted field that this one put back, so the counts move too.
        assert_eq!(
            User::changed_tags(&before, &user(5, Role::User, true)),
            [USER_COUNTS_TAG]
        );
    }
}
