//! Test harness: the real app on port 0, spoken to over HTTP like a frontend does, on a
//! `redis-server` and a database of the test's own ([`crate::fixtures`]).
use std::{collections::HashMap, net::SocketAddr, sync::Arc, time::Duration};

use cachegraph::{AppState, cache::pause::PausePoints, config::Config};

use crate::fixtures::uuid_like;
pub use crate::fixtures::{RedisServer, TestDb, free_port};
pub use api::code;

mod api;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-123";
pub const JWT_SECRET: &str = "test-secret-0123456789abcdef";
pub const PASSWORD: &str = "password-123";

/// Which cache the app runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Redis,
    Memory,
    None,
}

/// Which database the app runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

/// The real app, listening on a loopback port of its own.
pub struct TestApp {
    pub addr: SocketAddr,
    pub pause: Option<Arc<PausePoints>>,
    pub state: AppState,
    pub http: reqwest::Client,
    pub admin_token: String,
    pub redis: Option<RedisServer>,
    pub db: TestDb,
    /// The settings the test gave it (`Spawn::env`): its siblings start with them too, as the
    /// instances of one deployment share their configuration.
    settings: HashMap<String, String>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// How to start an app.
pub struct Spawn {
    pub backend: Backend,
    pub db: Db,
    pub env: HashMap<String, String>,
    pub pause: Option<Arc<PausePoints>>,
}

impl Spawn {
    pub fn new(backend: Backend, db: Db) -> Self {
        Self {
            backend,
            db,
            env: HashMap::new(),
            pause: None,
        }
    }

    /// Arms nothing yet, but lets the test hold requests at the protocol's pause points.
    pub fn with_pause_points(mut self) -> Self {
        self.pause = Some(Arc::default());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.to_owned(), value.to_owned());
        self
    }

    /// [`Spawn::env`] for each of `env`.
    pub fn envs(self, env: &[(&str, &str)]) -> Self {
        env.iter().fold(self, |spec, (k, v)| spec.env(k, v))
    }

    /// Starts the app (and, for the Redis backend, a Redis of its own unless `REDIS_URL` was
    /// given). `None` when the database leg is skipped.
    pub async fn start(self) -> Option<TestApp> {
        let db = TestDb::create(self.db).await?;
        let redis = if self.backend == Backend::Redis && !self.env.contains_key("REDIS_URL") {
            Some(RedisServer::start().await)
        } else {
            None
        };
        Some(TestApp::start_with(self, db, redis).await)
    }
}

impl TestApp {
    /// An app on SQLite with `env` set.
    pub async fn with_env(backend: Backend, env: &[(&str, &str)]) -> Self {
        Spawn::new(backend, Db::Sqlite)
            .envs(env)
            .start()
            .await
            .expect("SQLite is always available")
    }

    /// The usual app for a backend and database.
    pub async fn spawn(backend: Backend, db: Db) -> Option<Self> {
        Spawn::new(backend, db).start().await
    }

    /// An app on an existing database and Redis (for several instances).
    pub async fn start_with(spec: Spawn, db: TestDb, redis: Option<RedisServer>) -> Self {
        init_tracing();
        let mut env: HashMap<String, String> = [
            ("LISTEN_ADDR", "127.0.0.1:0"),
            ("ADMIN_EMAIL", ADMIN_EMAIL),
            ("ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("JWT_SECRET", JWT_SECRET),
            ("CACHE_BREAKER_MS", "100"),
            ("CACHE_TRUST_MS", "400"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        env.insert("DATABASE_URL".into(), db.url.clone());
        env.insert(
            "CACHE_BACKEND".into(),
            match spec.backend {
                Backend::Redis => "redis",
                Backend::Memory => "memory",
                Backend::None => "none",
            }
            .into(),
        );
        env.insert("CACHE_PREFIX".into(), format!("t{}:", uuid_like()));
        if let Some(redis) = &redis {
            env.insert("REDIS_URL".into(), redis.url());
        }
        let settings = spec.env.clone();
        env.extend(spec.env);
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("valid test config");
        let pause = spec.pause.clone();
        let (router, state) =
            cachegraph::build_app_with(config, pause.clone(), crate::product::Products)
                .await
                .expect("app starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let limits = state.config.server.clone();
        tokio::spawn(async move {
            cachegraph::serve(listener, router, &limits, async move {
                let _ = rx.await;
            })
            .await
        });
        let mut app = Self {
            addr,
            pause,
            state,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            admin_token: String::new(),
            redis,
            db,
            settings,
            _shutdown: tx,
        };
        app.admin_token = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        // Every layer on: with Redis up, wait (bounded) until L1 serves, so tests exercise it.
        let cache = app.state.users.store().cache().clone();
        if app.state.config.cache.l1 && cache.backend_name() == "redis" && cache.is_available() {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            while !cache.l1_live() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        app
    }

    /// Database reads this app has made (the repository's counter).
    pub fn db_loads(&self) -> u64 {
        self.state.users.store().repo().loads()
    }

    /// The app's pause points (spawned `with_pause_points`).
    pub fn points(&self) -> &PausePoints {
        self.pause.as_deref().expect("spawned with_pause_points")
    }

    /// A second instance of this app: same database, same Redis, same namespace, same settings.
    pub async fn sibling(&self) -> TestApp {
        self.sibling_via(self.state.config.cache.redis_url.expose())
            .await
    }

    /// [`TestApp::sibling`] reaching Redis at `redis_url` (e.g. through a proxy).
    pub async fn sibling_via(&self, redis_url: &str) -> TestApp {
        let spec = Spawn {
            env: self.settings.clone(),
            pause: self.pause.as_ref().map(|_| Arc::default()),
            ..Spawn::new(Backend::Redis, Db::Sqlite)
        };
        let spec = spec
            .env("REDIS_URL", redis_url)
            .env("CACHE_PREFIX", self.prefix());
        TestApp::start_with(spec, TestDb::shared(&self.db.url), None).await
    }

    /// A fred client on the Redis this app uses (any topology).
    pub async fn redis_client(&self) -> fred::prelude::Client {
        use fred::prelude::*;
        let config = Config::from_url(self.state.config.cache.redis_url.expose()).unwrap();
        let client = Builder::from_config(config).build().unwrap();
        client.init().await.unwrap();
        client
    }

    /// The `CACHE_PREFIX` of this app (give it to an instance that should share its cache).
    pub fn prefix(&self) -> &str {
        &self.state.config.cache.prefix
    }

    /// The namespace its keys live under: the prefix and the database's deployment id.
    pub fn namespace(&self) -> &str {
        self.state.users.store().cache().namespace()
    }

    /// Waits (bounded) until `/health` reports the cache as `status`.
    pub async fn await_cache_status(&self, status: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let body = self.health().await;
            if body["cache"]["status"] == status {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "cache never became {status}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Generates one test per backend and database for an `async fn(TestApp)`.
#[macro_export]
macro_rules! each_backend {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use $crate::helpers::{Backend, Db, TestApp};
                async fn run(backend: Backend, db: Db) {
                    if let Some(app) = TestApp::spawn(backend, db).await {
                        super::$name(app).await;
                    }
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn redis_sqlite() { run(Backend::Redis, Db::Sqlite).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn memory_sqlite() { run(Backend::Memory, Db::Sqlite).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn none_sqlite() { run(Backend::None, Db::Sqlite).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn redis_postgres() { run(Backend::Redis, Db::Postgres).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn memory_postgres() { run(Backend::Memory, Db::Postgres).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn none_postgres() { run(Backend::None, Db::Postgres).await }
            }
        )*
    };
}
