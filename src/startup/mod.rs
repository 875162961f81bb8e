//! Start-up: bind the listener, connect and migrate the database, connect the cache
//! ([`connect`]), create the first admin (`seed`), build the router, say what is running
//! (`banner`), and serve until a shutdown signal.
mod banner;
mod seed;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

use crate::{
    AppState,
    auth::{Jwt, LoginThrottle},
    cache::{Cache, CacheError, CachedUsers, Stats, pause::PausePoints},
    config,
    config::Config,
    db,
    error::AppError,
    extension::{Extension, ExtensionError},
    graphql, http,
    telemetry::Metrics,
    users::UserService,
};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("cache: {0}")]
    Cache(#[from] CacheError),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("creating the admin user: {0}")]
    Bootstrap(AppError),
    #[error("listening on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Serve(std::io::Error),
    /// An [`Extension`] could not be built.
    #[error("extension: {0}")]
    Extension(ExtensionError),
}

/// Connects and migrates the database, connects the cache, creates the first admin if needed,
/// and builds the router. Tests call this with their own configuration.
pub async fn build_app(config: Config) -> Result<(Router, AppState), StartError> {
    build(config, None, ()).await
}

/// [`build_app`] with an application's roots merged into the API (see [`Extension`]).
pub async fn build_app_extended(
    config: Config,
    extension: impl Extension,
) -> Result<(Router, AppState), StartError> {
    build(config, None, extension).await
}

/// [`build_app_extended`] with pause points armed by tests (see [`cache::pause`]; feature
/// `test-hooks`).
#[cfg(feature = "test-hooks")]
pub async fn build_app_with(
    config: Config,
    pause: Option<Arc<PausePoints>>,
    extension: impl Extension,
) -> Result<(Router, AppState), StartError> {
    build(config, pause, extension).await
}

async fn build(
    config: Config,
    pause: Option<Arc<PausePoints>>,
    extension: impl Extension,
) -> Result<(Router, AppState), StartError> {
    let state = connect_with(config, pause).await?;
    seed::admin(&state).await?;
    let (query, mutation) = extension
        .build(&state)
        .await
        .map_err(StartError::Extension)?;
    let schema = graphql::build_schema(state.clone(), query, mutation);
    Ok((http::router(state.clone(), schema), state))
}

/// Serves `router` on `listener` within `limits` until `shutdown` resolves, then drains
/// in-flight requests for at most ten seconds (see [`http::server`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &config::ServerLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    http::server::serve(listener, router, limits, shutdown).await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Builds the app and serves it on `LISTEN_ADDR` until SIGINT or SIGTERM.
pub async fn run(config: Config) -> Result<(), StartError> {
    run_extended(config, ()).await
}

/// [`run`] with an application's roots merged into the API (see [`Extension`]). The listener
/// is bound first: a taken port stops start-up before anything is written to the database
/// (so a generated admin password is never logged by a server that then exits).
pub async fn run_extended(config: Config, extension: impl Extension) -> Result<(), StartError> {
    let addr = config.listen_addr;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    let addr = listener.local_addr().unwrap_or(addr);
    let (router, state) = build(config, None, extension).await?;
    banner::started(&state, addr);
    serve(listener, router, &state.config.server, shutdown_signal())
        .await
        .map_err(StartError::Serve)
}

/// The app's state, without a router and without seeding anything: the database connected
/// and migrated, the cache connected, the services built. `cachegraph admin` works on this.
pub async fn connect(config: Config) -> Result<AppState, StartError> {
    connect_with(config, None).await
}

async fn connect_with(
    config: Config,
    pause: Option<Arc<PausePoints>>,
) -> Result<AppState, StartError> {
    let db = db::connect(&config).await?;
    db::migrate(&db).await?;
    let registry = prometheus::Registry::new();
    let metrics = Metrics::new(registry.clone(), config.metrics_max_operations)?;
    let deployment = db::deployment_id(&db).await?;
    let owed = db::OwedLog::new(db.clone());
    let cache = Cache::connect(&config, Stats::new(&registry)?, pause, &deployment, owed).await?;
    let login = Arc::new(LoginThrottle::new(&config.login, cache.clone()));
    let users = UserService::new(CachedUsers::new(
        db::UserRepo::new(db.clone()),
        cache.clone(),
    ));

    let secret = match &config.auth.jwt_secret {
        Some(secret) => secret.expose().to_owned(),
        None => {
            tracing::warn!(
                "JWT_SECRET is not set: using a random key; tokens die with this process"
            );
            seed::random_secret(48)
        }
    };
    let jwt = Arc::new(Jwt::new(&secret, config.auth.jwt_ttl));

    Ok(AppState {
        config: Arc::new(config),
        db,
        cache,
        users,
        jwt,
        metrics,
        login,
    })
}
