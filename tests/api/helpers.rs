//! Test harness: the real app on port 0, spoken to over HTTP like a frontend does, on a
//! `redis-server` and a database of the test's own ([`crate::fixtures`]).
use std::{collections::HashMap, net::SocketAddr, sync::Arc, time::Duration};

use cachegraph::{AppState, cache::pause::PausePoints, config::Config};
use serde_json::{Value, json};

use crate::fixtures::uuid_like;
pub use crate::fixtures::{RedisServer, TestDb, free_port};

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
        let mut spec = Spawn::new(backend, Db::Sqlite);
        for (k, v) in env {
            spec = spec.env(k, v);
        }
        spec.start().await.expect("SQLite is always available")
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
        env.extend(spec.env);
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("valid test config");
        let pause = spec.pause.clone();
        let (router, state) = cachegraph::build_app_with(config, pause.clone())
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

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a GraphQL request; returns the JSON body.
    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.expect("server answers");
        resp.json().await.expect("JSON body")
    }

    /// POSTs any JSON body; returns the status and the JSON body.
    pub async fn post_json(&self, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self.http.post(self.url("/graphql")).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.expect("server answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("JSON body"))
    }

    /// As the admin.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_as(Some(&self.admin_token), query, variables).await
    }

    /// Logs in and returns the token; panics when refused.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = self
            .gql_as(
                None,
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
                json!({ "e": email, "p": password }),
            )
            .await;
        body["data"]["login"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {body}"))
            .to_owned()
    }

    /// Creates a user as the admin; returns its id.
    pub async fn create_user(&self, email: &str, role: &str) -> String {
        let body = self
            .gql(
                "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
                json!({ "i": { "email": email, "fullName": "Test User", "password": PASSWORD, "role": role } }),
            )
            .await;
        body["data"]["createUser"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("createUser failed: {body}"))
            .to_owned()
    }

    /// Creates a user and logs in as it.
    pub async fn user_with_token(&self, email: &str) -> (String, String) {
        let id = self.create_user(email, "USER").await;
        (id, self.login(email, PASSWORD).await)
    }

    /// `user(id)` as the admin: the user's JSON or null.
    pub async fn user(&self, id: &str) -> Value {
        let body = self
            .gql(
                "query($id: ID!) { user(id: $id) { id email fullName isActive role } }",
                json!({ "id": id }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        body["data"]["user"].clone()
    }

    /// The emails of `users(skip, limit)` as the admin.
    pub async fn list_emails(&self, skip: i64, limit: i64) -> Vec<String> {
        let body = self
            .gql(
                "query($s: Int!, $l: Int!) { users(skip: $s, limit: $l) { email } }",
                json!({ "s": skip, "l": limit }),
            )
            .await;
        body["data"]["users"]
            .as_array()
            .unwrap_or_else(|| panic!("users failed: {body}"))
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_owned())
            .collect()
    }

    /// A user's full name as the admin, failing the test on any error.
    pub async fn name_of(&self, id: &str) -> String {
        let user = self.user(id).await;
        user["fullName"]
            .as_str()
            .unwrap_or_else(|| panic!("{user}"))
            .to_owned()
    }

    /// Renames a user as the admin, failing the test on any error.
    pub async fn rename(&self, id: &str, name: &str) {
        let body = self
            .gql(
                "mutation($id: ID!, $n: String!) { updateUser(id: $id, input: { fullName: $n }) { fullName } }",
                json!({ "id": id, "n": name }),
            )
            .await;
        assert_eq!(body["data"]["updateUser"]["fullName"], name, "{body}");
    }

    /// `GET /health`'s body.
    pub async fn health(&self) -> Value {
        self.http
            .get(self.url("/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Sends `query` as the admin in the background; the handle yields the body.
    pub fn spawn_gql(&self, query: String) -> tokio::task::JoinHandle<Value> {
        let (http, url, token) = (
            self.http.clone(),
            self.url("/graphql"),
            self.admin_token.clone(),
        );
        tokio::spawn(async move {
            let resp = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": query }));
            resp.send().await.unwrap().json().await.unwrap()
        })
    }

    /// Database reads this app has made (the repository's counter).
    pub fn db_loads(&self) -> u64 {
        self.state.users.store().repo().loads()
    }

    /// The app's pause points (spawned `with_pause_points`).
    pub fn points(&self) -> &PausePoints {
        self.pause.as_deref().expect("spawned with_pause_points")
    }

    /// A second instance of this app: same database, same Redis, same namespace.
    pub async fn sibling(&self) -> TestApp {
        self.sibling_via(self.state.config.redis_url.expose()).await
    }

    /// [`TestApp::sibling`] reaching Redis at `redis_url` (e.g. through a proxy).
    pub async fn sibling_via(&self, redis_url: &str) -> TestApp {
        let mut spec = Spawn::new(Backend::Redis, Db::Sqlite)
            .env("REDIS_URL", redis_url)
            .env("CACHE_PREFIX", self.prefix());
        spec.pause = self.pause.as_ref().map(|_| Arc::default());
        TestApp::start_with(spec, TestDb::shared(&self.db.url), None).await
    }

    /// A fred client on the Redis this app uses (any topology).
    pub async fn redis_client(&self) -> fred::prelude::Client {
        use fred::prelude::*;
        let config = Config::from_url(self.state.config.redis_url.expose()).unwrap();
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

/// The `extensions.code` of the first error.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error code in {body}"))
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
