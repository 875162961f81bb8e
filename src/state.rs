//! The state every request can reach: one explicit struct of cheap handles, built at start-up
//! ([`crate::startup`]) and cloned per request. No globals.
use std::sync::Arc;

use crate::{
    auth::{Jwt, LoginThrottle},
    cache::Cache,
    config::Config,
    telemetry::Metrics,
    users::UserService,
};

/// What every request can reach: cheap handles, cloned per request.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// The database connection (a pool), for extensions' own tables.
    pub db: sea_orm::DatabaseConnection,
    /// The cache, for what is not users: stats, clearing, the response cache, health.
    pub cache: Cache,
    pub users: UserService,
    pub jwt: Arc<Jwt>,
    pub metrics: Metrics,
    /// Throttles logins and bounds password hashing.
    pub login: Arc<LoginThrottle>,
}
