//! The user service: the one boundary resolvers reach users through.
//!
//! It validates input, enforces who may change what, hashes passwords, and calls the cached
//! repository ([`crate::cache::CachedUsers`]). It knows nothing of GraphQL or HTTP.
pub use crate::domain::{CreateUser, Role, UpdateUser, User, Viewer, is_valid_email};

use crate::{
    auth::password,
    cache::{CachedUsers, UserCounts},
    db::{NewUser, UserChanges},
    domain::validate,
    error::{AppError, AppResult},
};

/// The service. Cheap to clone.
#[derive(Clone)]
pub struct UserService {
    store: CachedUsers,
}

impl UserService {
    /// Wraps the cached repository.
    pub fn new(store: CachedUsers) -> Self {
        Self { store }
    }

    /// The cached repository, for cache administration and health.
    pub fn store(&self) -> &CachedUsers {
        &self.store
    }

    /// `user(id)`.
    pub async fn get(&self, id: &str) -> AppResult<Option<User>> {
        let id = validate::id(id)?;
        Ok(self.store.get(id).await?)
    }

    /// `userByEmail(email)`: matched case-insensitively.
    pub async fn by_email(&self, email: &str) -> AppResult<Option<User>> {
        let email = validate::email(email)?;
        Ok(self.store.by_email(&email).await?)
    }

    /// `users(skip, limit)`, from the database (the resolver caches pages under its policy).
    pub async fn list(&self, skip: i32, limit: i32) -> AppResult<Vec<User>> {
        let (skip, limit) = validate::page(skip, limit)?;
        let rows = self.store.repo().list(skip, limit).await?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    /// The ids of the page `users(skip, limit)`, from the database; the users loaded with them
    /// fill their own entries (the resolver caches the ids under its policy).
    pub async fn page_ids(&self, skip: i32, limit: i32) -> AppResult<Vec<i64>> {
        let page = self.list(skip, limit).await?;
        self.store.filled(&page).await;
        Ok(page.iter().map(|u| u.id).collect())
    }

    /// The members of a page, in order, each through its own entry; `None` when one of them is
    /// gone (deleted since the page was read).
    pub async fn members(&self, ids: &[i64]) -> AppResult<Option<Vec<User>>> {
        Ok(self.store.get_many(ids).await?.into_iter().collect())
    }

    /// `userStats`, from the database (the resolver caches it under its policy).
    pub async fn counts(&self) -> AppResult<UserCounts> {
        let (total, active, admins) = self.store.repo().counts().await?;
        Ok(UserCounts {
            total,
            active,
            admins,
        })
    }

    /// The caller behind a verified token: the user must still exist and be active.
    pub async fn viewer(&self, id: i64) -> AppResult<Viewer> {
        match self.store.get(id).await? {
            Some(user) if user.is_active => Ok(Viewer { user }),
            _ => Err(AppError::Unauthenticated("token revoked".into())),
        }
    }

    /// Checks a login. A wrong email, a wrong password and an inactive user give the same error
    /// after the same work (a hash is verified in every case).
    pub async fn authenticate(&self, email: &str, password: &str) -> AppResult<User> {
        let wrong = || AppError::Unauthenticated("invalid email or password".into());
        let email = email.trim().to_lowercase();
        let row = if is_valid_email(&email) {
            self.store.repo().find_by_email(&email).await?
        } else {
            None
        };
        let hash = row.as_ref().map(|r| r.password_hash.clone());
        let ok = password::verify(password.to_owned(), hash).await?;
        match row {
            Some(row) if ok && row.is_active => Ok(User::from(row)),
            _ => Err(wrong()),
        }
    }

    /// `createUser`.
    pub async fn create(&self, input: CreateUser) -> AppResult<User> {
        let email = validate::email(&input.email)?;
        let full_name = validate::full_name(&input.full_name)?;
        validate::password(&input.password)?;
        let password_hash = password::hash(input.password).await?;
        let user = self
            .store
            .insert(NewUser {
                email,
                full_name,
                password_hash,
                role: input.role.as_str().to_owned(),
                is_active: input.is_active,
            })
            .await?;
        tracing::info!(user_id = user.id, "user created");
        Ok(user)
    }

    /// `updateUser`: admins change anything; a user changes only its own email, name and
    /// password.
    pub async fn update(&self, viewer: &Viewer, id: &str, input: UpdateUser) -> AppResult<User> {
        let id = validate::id(id)?;
        if !viewer.is_admin() {
            if viewer.id() != id {
                return Err(AppError::Forbidden("you may only update yourself".into()));
            }
            if input.is_active.is_some() || input.role.is_some() {
                return Err(AppError::Forbidden(
                    "only an admin may change isActive or role".into(),
                ));
            }
        }
        let mut changes = UserChanges {
            email: input.email.as_deref().map(validate::email).transpose()?,
            full_name: input
                .full_name
                .as_deref()
                .map(validate::full_name)
                .transpose()?,
            password_hash: None,
            is_active: input.is_active,
            role: input.role.map(|r| r.as_str().to_owned()),
        };
        if let Some(pw) = input.password {
            validate::password(&pw)?;
            changes.password_hash = Some(password::hash(pw).await?);
        }
        let Some(user) = self.store.update(id, changes).await? else {
            return Err(AppError::NotFound(format!("no user with id {id}").into()));
        };
        tracing::info!(user_id = id, by = viewer.id(), "user updated");
        Ok(user)
    }

    /// `cachegraph admin set-password`: sets the password of the user with `email` (checked
    /// like any password), written through like any update. `NOT_FOUND` when there is none.
    pub async fn set_password(&self, email: &str, password: String) -> AppResult<User> {
        let email = validate::email(email)?;
        validate::password(&password)?;
        let Some(row) = self.store.repo().find_by_email(&email).await? else {
            return Err(AppError::NotFound(
                format!("no user with email {email}").into(),
            ));
        };
        let changes = UserChanges {
            password_hash: Some(password::hash(password).await?),
            ..UserChanges::default()
        };
        match self.store.update(row.id, changes).await? {
            Some(user) => Ok(user),
            None => Err(AppError::NotFound(
                format!("no user with email {email}").into(),
            )),
        }
    }

    /// `deleteUser`: `false` when there was no such user.
    pub async fn delete(&self, viewer: &Viewer, id: &str) -> AppResult<bool> {
        let id = validate::id(id)?;
        let deleted = self.store.delete(id).await?;
        if deleted {
            tracing::info!(user_id = id, by = viewer.id(), "user deleted");
        }
        Ok(deleted)
    }

    /// At start: when no admin exists, create `email` with `password`.
    pub async fn bootstrap_admin(&self, email: &str, password: &str) -> AppResult<bool> {
        if self.store.repo().any_admin().await? {
            return Ok(false);
        }
        let created = self
            .create(CreateUser {
                email: email.to_owned(),
                full_name: "Administrator".to_owned(),
                password: password.to_owned(),
                role: Role::Admin,
                is_active: true,
            })
            .await;
        match created {
            Ok(_) => Ok(true),
            // Another instance won the race, or the email belongs to a non-admin.
            Err(AppError::Conflict(_)) => {
                if !self.store.repo().any_admin().await? {
                    tracing::error!(
                        email,
                        "ADMIN_EMAIL belongs to a user who is not an admin; no admin was created"
                    );
                }
                Ok(false)
            }
            Err(err) => Err(err),
        }
    }
}
