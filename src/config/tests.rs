//! Unit tests of the parent module.
use super::*;
use std::{collections::HashMap, time::Duration};

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn defaults_match_the_contract() {
    let c = config(&[]).unwrap();
    assert_eq!(c.listen_addr.to_string(), "127.0.0.1:8000");
    assert_eq!(c.database.url.expose(), "sqlite://data/app.db?mode=rwc");
    assert_eq!(c.cache.redis_url.expose(), "redis://127.0.0.1:6379");
    assert_eq!(c.cache.backend, CacheBackendKind::Redis);
    assert_eq!(c.cache.prefix, "cachegraph:");
    assert_eq!(c.cache.default_ttl, Duration::from_secs(300));
    assert_eq!(c.cache.user_ttl, Duration::from_secs(600));
    assert_eq!(c.cache.timeout, Duration::from_millis(200));
    assert_eq!(c.auth.jwt_ttl, Duration::from_secs(3600));
    assert_eq!(c.auth.admin_email, "admin@example.com");
    assert!(c.auth.admin_password.is_none() && c.auth.jwt_secret.is_none());
    assert_eq!(c.limits.max_depth, 32);
    assert_eq!(c.limits.max_body_bytes, 1_048_576);
    assert_eq!(c.limits.introspection, Introspection::On);
    assert_eq!(c.login.max_failures, 5);
    assert_eq!(c.login.trusted_proxy_hops, 0);
    assert_eq!(c.server.max_connections, 1024);
    assert!(c.cors_allowed_origins.is_empty());
}

#[test]
fn bad_values_name_their_variable() {
    for (var, value) in [
        ("CACHE_USER_TTL", "ten"),
        ("JWT_TTL", "-1"),
        ("LISTEN_ADDR", "localhost"),
        ("DATABASE_URL", "mysql://x"),
        ("DATABASE_URL", "postgres://[bad"),
        ("REDIS_URL", "http://x"),
        ("CACHE_BACKEND", "memcached"),
        ("CORS_ALLOWED_ORIGINS", "not a url"),
        ("CACHE_TIMEOUT_MS", "0"),
        ("INTROSPECTION", "sometimes"),
        ("MAX_QUERY_NODES", "0"),
        ("HTTP_MAX_CONNECTIONS", "many"),
        ("LOGIN_LOCKOUT_MAX_SECS", "0"),
    ] {
        let err = config(&[(var, value)]).expect_err(value);
        assert_eq!(err.var, var, "{value}");
        assert!(err.to_string().contains(var));
    }
}

#[test]
fn secrets_are_not_printed() {
    let c = config(&[
        ("JWT_SECRET", "a-very-secret-signing-key"),
        ("ADMIN_PASSWORD", "hunter2hunter2"),
        ("DATABASE_URL", "postgres://u:dbpass@localhost/x"),
    ])
    .unwrap();
    let debug = format!("{c:?}");
    for secret in ["a-very-secret-signing-key", "hunter2hunter2", "dbpass"] {
        assert!(!debug.contains(secret), "{secret} leaked");
    }
}

#[test]
fn redis_urls_are_described_without_credentials() {
    use super::cache::describe_redis_url as d;
    assert_eq!(d("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    assert_eq!(d("redis://:s3cret@h:6380/2"), "redis://h:6380/2");
    assert_eq!(d("rediss://user:p@ss@h:6380"), "rediss://h:6380");
    assert_eq!(
        d("redis-sentinel://:pw@a:26379,b:26379/mymaster?node_password=x"),
        "redis-sentinel://a:26379,b:26379/mymaster"
    );
}

#[test]
fn databases_are_described_without_credentials() {
    let c = config(&[(
        "DATABASE_URL",
        "postgres://app:s3cret@db.example.com:6543/prod",
    )])
    .unwrap();
    assert_eq!(
        c.database.describe(),
        "PostgreSQL at db.example.com:6543/prod"
    );
    assert_eq!(
        c.database.server_addr().as_deref(),
        Some("db.example.com:6543")
    );
    let c = config(&[]).unwrap();
    assert_eq!(c.database.describe(), "SQLite at data/app.db");
    assert!(c.database.server_addr().is_none());
}
