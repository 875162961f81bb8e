//! The bounds on what a client can make the server do: per request, per connection and per
//! login. Every one of them is checked before the work it bounds (docs/security.md lists what
//! each stops and the test that proves it).
use std::time::Duration;

use super::{
    ConfigError,
    env::{Env, invalid},
};

/// Who may run introspection (`__schema`, `__type`): `INTROSPECTION`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Introspection {
    /// Anyone (the default: GraphiQL loads its docs before anyone has logged in).
    On,
    /// Only callers with a valid token.
    Authenticated,
    /// No one.
    Off,
}

/// What one GraphQL request may cost.
#[derive(Clone, Debug)]
pub struct RequestLimits {
    /// `MAX_BODY_BYTES`: larger request bodies are refused with 413.
    pub max_body_bytes: usize,
    /// `MAX_QUERY_DEPTH`: deeper documents are refused before execution.
    pub max_depth: usize,
    /// `MAX_QUERY_COMPLEXITY`: documents costing more (by the schema's field costs) are refused
    /// before execution.
    pub max_complexity: usize,
    /// `MAX_QUERY_NODES`: fields, fragment spreads, inline fragments, arguments (with the items
    /// of their values), directives and variable definitions of the whole document once its
    /// fragments are expanded (a fragment spread twice counts twice; `__schema` counts as
    /// [`INTROSPECTION_FIELDS`]).
    pub max_nodes: u64,
    /// `MAX_QUERY_ALIASES`: aliased fields of the document, fragments expanded.
    pub max_aliases: u64,
    /// `MAX_QUERY_VARIABLES`: variables sent with one request.
    pub max_variables: usize,
    /// `MAX_ERRORS`: errors listed in one response; the rest are summed up in one last error.
    pub max_errors: usize,
    /// `INTROSPECTION`: on, authenticated or off.
    pub introspection: Introspection,
}

/// What `__schema` counts as in [`RequestLimits::max_nodes`]: it answers with the whole schema.
pub const INTROSPECTION_FIELDS: u64 = 200;
/// What `__type(name:)` counts as: one type's fields.
pub const TYPE_INTROSPECTION_FIELDS: u64 = 20;

/// The HTTP server's bounds on connections.
#[derive(Clone, Debug)]
pub struct ServerLimits {
    /// `HTTP_HEADER_TIMEOUT_MS`: a connection must send a request's headers within this, and an
    /// idle keep-alive connection is closed after it.
    pub header_timeout: Duration,
    /// `HTTP_BODY_TIMEOUT_MS`: reading one request's body, at most.
    pub body_timeout: Duration,
    /// `HTTP_MAX_CONNECTIONS`: open connections at once; further ones wait to be accepted.
    pub max_connections: usize,
}

/// Login throttling and the bound on password-hashing work.
#[derive(Clone, Debug)]
pub struct LoginLimits {
    /// `LOGIN_MAX_FAILURES`: failed logins for one email from one client address before that
    /// pair is locked out.
    pub max_failures: u64,
    /// `LOGIN_MAX_FAILURES_PER_CLIENT`: failed logins from one client address, any emails,
    /// before the address is locked out.
    pub max_failures_per_client: u64,
    /// `LOGIN_MAX_FAILURES_PER_EMAIL`: failed logins for one email, from any addresses, before
    /// the email is locked out (guessing one password from many addresses).
    pub max_failures_per_email: u64,
    /// `LOGIN_LOCKOUT_MS`: the first lockout; each further failure doubles it.
    pub lockout_base: Duration,
    /// `LOGIN_LOCKOUT_MAX_SECS`: the longest lockout; failures are remembered this long.
    pub lockout_max: Duration,
    /// `LOGIN_HASH_CONCURRENCY`: password hashes computed at once (each takes ~19 MiB).
    pub hash_concurrency: usize,
    /// `LOGIN_HASH_WAIT_MS`: how long a login waits for a hashing slot before it is refused.
    pub hash_wait: Duration,
    /// `TRUSTED_PROXY_HOPS`: how many proxies in front write `X-Forwarded-For`; the client
    /// address is the entry that many from the right (0: the TCP peer, the default).
    pub trusted_proxy_hops: usize,
}

impl RequestLimits {
    pub(super) fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let introspection = match env.get("INTROSPECTION").map(|v| v.to_ascii_lowercase()) {
            None => Introspection::On,
            Some(v) => match v.as_str() {
                "on" | "true" => Introspection::On,
                "authenticated" => Introspection::Authenticated,
                "off" | "false" => Introspection::Off,
                _ => {
                    return Err(invalid(
                        "INTROSPECTION",
                        format!("`{v}` is not one of on, authenticated, off"),
                    ));
                }
            },
        };
        Ok(Self {
            max_body_bytes: env.positive("MAX_BODY_BYTES", 1_048_576)? as usize,
            max_depth: env.bounded("MAX_QUERY_DEPTH", 32, 256)? as usize,
            max_complexity: env.positive("MAX_QUERY_COMPLEXITY", 20_000)? as usize,
            max_nodes: env.positive("MAX_QUERY_NODES", 2_000)?,
            max_aliases: env.positive("MAX_QUERY_ALIASES", 200)?,
            max_variables: env.positive("MAX_QUERY_VARIABLES", 100)? as usize,
            max_errors: env.positive("MAX_ERRORS", 20)? as usize,
            introspection,
        })
    }
}

impl ServerLimits {
    pub(super) fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            header_timeout: env.millis("HTTP_HEADER_TIMEOUT_MS", 10_000)?,
            body_timeout: env.millis("HTTP_BODY_TIMEOUT_MS", 30_000)?,
            max_connections: env.bounded("HTTP_MAX_CONNECTIONS", 1024, 1 << 20)? as usize,
        })
    }
}

impl LoginLimits {
    pub(super) fn read<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let lockout_base = env.millis("LOGIN_LOCKOUT_MS", 1_000)?;
        let lockout_max = env.secs("LOGIN_LOCKOUT_MAX_SECS", 900)?;
        if lockout_max < lockout_base {
            return Err(invalid(
                "LOGIN_LOCKOUT_MAX_SECS",
                "must not be shorter than LOGIN_LOCKOUT_MS",
            ));
        }
        Ok(Self {
            max_failures: env.positive("LOGIN_MAX_FAILURES", 5)?,
            max_failures_per_client: env.positive("LOGIN_MAX_FAILURES_PER_CLIENT", 20)?,
            max_failures_per_email: env.positive("LOGIN_MAX_FAILURES_PER_EMAIL", 50)?,
            lockout_base,
            lockout_max,
            hash_concurrency: env.bounded(
                "LOGIN_HASH_CONCURRENCY",
                (cores / 2).max(1) as u64,
                256,
            )? as usize,
            hash_wait: env.millis("LOGIN_HASH_WAIT_MS", 5_000)?,
            trusted_proxy_hops: env.num("TRUSTED_PROXY_HOPS", 0)?.min(16) as usize,
        })
    }
}
