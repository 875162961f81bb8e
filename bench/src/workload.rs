//! The workloads, the checks every response goes through, and the load loop.
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use rand::{Rng, SeedableRng, rngs::SmallRng};
use serde_json::Value;

use crate::http::{Conn, Response, Target};

/// The fields every user selection asks for.
const USER_FIELDS: &str = "id email fullName isActive role createdAt updatedAt";
/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Wrong answers kept verbatim per run, for the report.
const MAX_SAMPLES: usize = 10;
/// Share of W4's requests that are writes.
const WRITE_SHARE: f64 = 0.05;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Workload {
    W0,
    W1,
    W2,
    W3,
    W4,
}

impl Workload {
    pub const ALL: [Workload; 5] = [
        Workload::W0,
        Workload::W1,
        Workload::W2,
        Workload::W3,
        Workload::W4,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "W0" => Some(Self::W0),
            "W1" => Some(Self::W1),
            "W2" => Some(Self::W2),
            "W3" => Some(Self::W3),
            "W4" => Some(Self::W4),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::W0 => "W0",
            Self::W1 => "W1",
            Self::W2 => "W2",
            Self::W3 => "W3",
            Self::W4 => "W4",
        }
    }

    /// A few words, for chart labels.
    pub fn label(self, zipf: Option<f64>) -> String {
        let dist = match zipf {
            Some(s) => format!("Zipf({s})"),
            None => "uniform".into(),
        };
        match self {
            Self::W0 => "__typename".into(),
            Self::W1 => "user(id), hot".into(),
            Self::W2 => "users, limit 100".into(),
            Self::W3 => format!("user(id), {dist}"),
            Self::W4 => "95% read, 5% write".into(),
        }
    }

    /// What it sends, for tables.
    pub fn describe(self, zipf: Option<f64>) -> String {
        let dist = match zipf {
            Some(s) => format!("Zipf({s})"),
            None => "uniform".into(),
        };
        match self {
            Self::W0 => "{ __typename }".into(),
            Self::W1 => "user(id), one hot user".into(),
            Self::W2 => "users(skip: 0, limit: 100)".into(),
            Self::W3 => format!("user(id), {dist} id"),
            Self::W4 => format!("95% user(id) / 5% updateUser, {dist} id"),
        }
    }
}

/// The seeded data: ids `1..=users` are `user{i}@example.com` / `User {i}`, active, role USER.
/// Names change only through W4's writes, which keep their own record ([`Writes`]).
pub struct Layout {
    pub users: u64,
}

/// How W3 and W4 choose ids.
pub struct Picker {
    users: u64,
    /// Cumulative Zipf weights of ranks 1..=users (rank k is id k), when Zipf is asked for.
    zipf_cdf: Option<Vec<f64>>,
}

impl Picker {
    pub fn new(users: u64, zipf: Option<f64>) -> Self {
        let zipf_cdf = zipf.map(|s| {
            let mut acc = 0.0;
            (1..=users)
                .map(|k| {
                    acc += 1.0 / (k as f64).powf(s);
                    acc
                })
                .collect()
        });
        Self { users, zipf_cdf }
    }

    pub fn pick(&self, rng: &mut impl Rng) -> u64 {
        match &self.zipf_cdf {
            None => rng.random_range(1..=self.users),
            Some(cdf) => {
                let total = *cdf.last().expect("at least one user");
                let u = rng.random::<f64>() * total;
                let i = cdf.partition_point(|&c| c <= u);
                (i as u64 + 1).min(self.users)
            }
        }
    }
}

/// What W4's writers did, so readers can tell a stale name from a fresh one.
///
/// Writers set `fullName` to `User {i} #{n}` with `n` from one increasing counter. Writes to one
/// user never overlap (a writer skips a user that has a write in flight), so for each user the
/// order of `n` is the order in which the writes committed. Each returned write is recorded with
/// the instant it returned; a read that starts after that instant must see that `n` or a larger
/// one (the seeded name counts as `n = 0`).
pub struct Writes {
    users: Mutex<Vec<UserWrites>>,
    next_n: AtomicU64,
    /// How many writes have returned: while it is unchanged, so is every read's requirement.
    returned: AtomicU64,
}

#[derive(Default, Clone)]
struct UserWrites {
    in_flight: bool,
    /// The last few returned writes, oldest first: (n, returned at).
    done: Vec<(u64, Instant)>,
}

impl Writes {
    /// `first_n` is the first number writers use (names already in the database must be lower).
    pub fn new(users: u64, first_n: u64) -> Self {
        Self {
            users: Mutex::new(vec![UserWrites::default(); users as usize + 1]),
            next_n: AtomicU64::new(first_n.max(1)),
            returned: AtomicU64::new(0),
        }
    }

    /// How many writes have returned so far.
    pub fn returned(&self) -> u64 {
        self.returned.load(Ordering::Acquire)
    }

    /// Picks a user with no write in flight and reserves it; `None` if a few tries found none.
    fn claim(&self, picker: &Picker, rng: &mut impl Rng) -> Option<(u64, u64)> {
        let mut users = self.users.lock().expect("writes lock");
        for _ in 0..8 {
            let id = picker.pick(rng);
            let u = &mut users[id as usize];
            if !u.in_flight {
                u.in_flight = true;
                return Some((id, self.next_n.fetch_add(1, Ordering::Relaxed)));
            }
        }
        None
    }

    /// Releases the user; a write that returned correctly is recorded with the instant now.
    fn finish(&self, id: u64, n: u64, returned_ok: bool) {
        let mut users = self.users.lock().expect("writes lock");
        let u = &mut users[id as usize];
        u.in_flight = false;
        if returned_ok {
            self.returned.fetch_add(1, Ordering::AcqRel);
            u.done.push((n, Instant::now()));
            if u.done.len() > 4 {
                u.done.remove(0);
            }
        }
    }

    /// The smallest `n` a read of `id` that started at `started` may see.
    fn required(&self, id: u64, started: Instant) -> u64 {
        let users = self.users.lock().expect("writes lock");
        users
            .get(id as usize)
            .and_then(|u| u.done.iter().rev().find(|(_, at)| *at < started))
            .map_or(0, |(n, _)| *n)
    }

    fn issued_below(&self) -> u64 {
        self.next_n.load(Ordering::Relaxed)
    }
}

/// Why a response was wrong.
#[derive(Debug)]
pub enum Failure {
    /// No response: connect, write or read failed, or it timed out.
    Transport(String),
    /// A status other than 200.
    Status(String),
    /// `errors` in the body (or no `data`).
    GraphQl(String),
    /// The data is not what the request asked for.
    Data(String),
    /// A name older than a write that had returned before the read started.
    Stale(String),
}

impl Failure {
    fn message(&self) -> String {
        match self {
            Failure::Transport(m) => format!("transport: {m}"),
            Failure::Status(m) => format!("HTTP status: {m}"),
            Failure::GraphQl(m) => format!("GraphQL errors: {m}"),
            Failure::Data(m) => format!("wrong data: {m}"),
            Failure::Stale(m) => format!("stale read: {m}"),
        }
    }
}

/// Wrong answers by kind.
#[derive(Default, Clone, Copy, Debug)]
pub struct FailureCounts {
    pub transport: u64,
    pub http_status: u64,
    pub graphql_errors: u64,
    pub wrong_data: u64,
    pub stale_reads: u64,
}

impl FailureCounts {
    pub fn total(&self) -> u64 {
        self.transport + self.http_status + self.graphql_errors + self.wrong_data + self.stale_reads
    }

    fn add(&mut self, f: &Failure) {
        match f {
            Failure::Transport(_) => self.transport += 1,
            Failure::Status(_) => self.http_status += 1,
            Failure::GraphQl(_) => self.graphql_errors += 1,
            Failure::Data(_) => self.wrong_data += 1,
            Failure::Stale(_) => self.stale_reads += 1,
        }
    }

    fn merge(&mut self, o: &FailureCounts) {
        self.transport += o.transport;
        self.http_status += o.http_status;
        self.graphql_errors += o.graphql_errors;
        self.wrong_data += o.wrong_data;
        self.stale_reads += o.stale_reads;
    }

    pub fn to_json(self) -> Value {
        serde_json::json!({
            "total": self.total(),
            "transport": self.transport,
            "http_status": self.http_status,
            "graphql_errors": self.graphql_errors,
            "wrong_data": self.wrong_data,
            "stale_reads": self.stale_reads,
        })
    }
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        s.push('…');
    }
    s
}

/// Status 200, a JSON body, no `errors`, and `data`: returns `data`.
pub fn graphql_data(resp: &Response) -> Result<Value, Failure> {
    if resp.status != 200 {
        return Err(Failure::Status(format!(
            "{} {}",
            resp.status,
            snippet(&resp.body)
        )));
    }
    let mut v: Value = serde_json::from_slice(&resp.body)
        .map_err(|e| Failure::Data(format!("body is not JSON ({e}): {}", snippet(&resp.body))))?;
    if let Some(errors) = v.get("errors")
        && !errors.is_null()
    {
        return Err(Failure::GraphQl(snippet(errors.to_string().as_bytes())));
    }
    match v.get_mut("data").map(Value::take) {
        Some(data) if data.is_object() => Ok(data),
        _ => Err(Failure::GraphQl(format!(
            "no data: {}",
            snippet(&resp.body)
        ))),
    }
}

/// The `n` of a name `User {id}` (0) or `User {id} #{n}`.
fn name_number(name: &str, id: u64) -> Option<u64> {
    let rest = name.strip_prefix("User ")?;
    let (num, suffix) = match rest.split_once(' ') {
        Some((num, suffix)) => (num, Some(suffix)),
        None => (rest, None),
    };
    if num.parse::<u64>().ok()? != id {
        return None;
    }
    match suffix {
        None => Some(0),
        Some(s) => s.strip_prefix('#')?.parse().ok(),
    }
}

/// A seeded user as returned by the API: right id and email, active, role USER, and a name at
/// least as new as every write to it that returned before `started`.
fn check_user(
    user: &Value,
    id: u64,
    layout: &Layout,
    writes: &Writes,
    started: Instant,
) -> Result<(), Failure> {
    let got_id = user.get("id").and_then(Value::as_str);
    if got_id != Some(id.to_string().as_str()) {
        return Err(Failure::Data(format!(
            "asked for user {id}, got id {got_id:?}"
        )));
    }
    if id == 0 || id > layout.users {
        return Err(Failure::Data(format!("user {id} is not a seeded user")));
    }
    let email = user.get("email").and_then(Value::as_str);
    let want = format!("user{id}@example.com");
    if email != Some(want.as_str()) {
        return Err(Failure::Data(format!(
            "user {id}: email {email:?}, expected {want}"
        )));
    }
    if user.get("isActive") != Some(&Value::Bool(true)) {
        return Err(Failure::Data(format!("user {id}: isActive is not true")));
    }
    if user.get("role").and_then(Value::as_str) != Some("USER") {
        return Err(Failure::Data(format!(
            "user {id}: role {:?}, expected USER",
            user.get("role")
        )));
    }
    for field in ["createdAt", "updatedAt"] {
        if user
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(|s| s.len() < 19)
        {
            return Err(Failure::Data(format!(
                "user {id}: {field} is not a date-time"
            )));
        }
    }
    let name = user.get("fullName").and_then(Value::as_str).unwrap_or("");
    let Some(n) = name_number(name, id) else {
        return Err(Failure::Data(format!(
            "user {id}: fullName {name:?} is none of `User {id}`, `User {id} #n`"
        )));
    };
    if n >= writes.issued_below() {
        return Err(Failure::Data(format!(
            "user {id}: fullName {name:?} was never written"
        )));
    }
    let required = writes.required(id, started);
    if n < required {
        return Err(Failure::Stale(format!(
            "user {id}: read {name:?} (#{n}), but the write of #{required} had returned before this read started"
        )));
    }
    Ok(())
}

/// One request of a workload.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Typename,
    User(u64),
    List,
    /// Set the user's name to `User {id} #{n}`.
    Write(u64, u64),
}

impl Op {
    pub fn body(self, out: &mut Vec<u8>) {
        use std::io::Write;
        out.clear();
        let _ = match self {
            Op::Typename => write!(out, r#"{{"query":"{{ __typename }}"}}"#),
            Op::User(id) => write!(
                out,
                r#"{{"query":"query($id: ID!) {{ user(id: $id) {{ {USER_FIELDS} }} }}","variables":{{"id":"{id}"}}}}"#
            ),
            Op::List => write!(
                out,
                r#"{{"query":"{{ users(skip: 0, limit: 100) {{ {USER_FIELDS} }} }}"}}"#
            ),
            Op::Write(id, n) => write!(
                out,
                r#"{{"query":"mutation($id: ID!, $name: String!) {{ updateUser(id: $id, input: {{ fullName: $name }}) {{ {USER_FIELDS} }} }}","variables":{{"id":"{id}","name":"User {id} #{n}"}}}}"#
            ),
        };
    }

    /// Checks the response to this request, sent at `started`.
    pub fn check(
        self,
        resp: &Response,
        started: Instant,
        layout: &Layout,
        writes: &Writes,
    ) -> Result<(), Failure> {
        let data = graphql_data(resp)?;
        match self {
            Op::Typename => match data.get("__typename").and_then(Value::as_str) {
                Some("Query") => Ok(()),
                other => Err(Failure::Data(format!("__typename is {other:?}"))),
            },
            Op::User(id) => match data.get("user") {
                Some(u) if u.is_object() => check_user(u, id, layout, writes, started),
                other => Err(Failure::Data(format!("user {id}: got {other:?}"))),
            },
            Op::List => {
                let Some(list) = data.get("users").and_then(Value::as_array) else {
                    return Err(Failure::Data("users is not a list".into()));
                };
                if list.len() != 100 {
                    return Err(Failure::Data(format!(
                        "users(limit: 100) returned {} users",
                        list.len()
                    )));
                }
                let mut previous = 0u64;
                for u in list {
                    let id = u
                        .get("id")
                        .and_then(Value::as_str)
                        .and_then(|s| s.parse::<u64>().ok())
                        .ok_or_else(|| Failure::Data(format!("users: bad id in {u}")))?;
                    if id <= previous {
                        return Err(Failure::Data(format!(
                            "users: id {id} after {previous} (not strictly increasing)"
                        )));
                    }
                    previous = id;
                    check_user(u, id, layout, writes, started)?;
                }
                Ok(())
            }
            Op::Write(id, n) => match data.get("updateUser") {
                Some(u) if u.is_object() => {
                    let name = u.get("fullName").and_then(Value::as_str);
                    let want = format!("User {id} #{n}");
                    if name != Some(want.as_str()) {
                        return Err(Failure::Data(format!(
                            "updateUser({id}) returned fullName {name:?}, expected {want:?}"
                        )));
                    }
                    check_user(u, id, layout, writes, started)
                }
                other => Err(Failure::Data(format!("updateUser({id}): got {other:?}"))),
            },
        }
    }
}

/// A connection that reconnects when needed, for control requests (login, stats, cold).
pub struct Client {
    target: Target,
    token: Option<String>,
    conn: Option<Conn>,
}

impl Client {
    pub fn new(target: Target, token: Option<String>) -> Self {
        Self {
            target,
            token,
            conn: None,
        }
    }

    /// Sends one GraphQL body and returns the raw response.
    pub async fn send(&mut self, body: &[u8]) -> Result<Response, Failure> {
        if self.conn.as_ref().is_none_or(|c| !c.is_open()) {
            self.conn = Some(
                Conn::connect(&self.target)
                    .await
                    .map_err(|e| Failure::Transport(format!("connect: {e}")))?,
            );
        }
        let conn = self.conn.as_mut().expect("connected");
        match tokio::time::timeout(
            REQUEST_TIMEOUT,
            conn.post_json(&self.target.path, self.token.as_deref(), body),
        )
        .await
        {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => {
                self.conn = None;
                Err(Failure::Transport(e.to_string()))
            }
            Err(_) => {
                self.conn = None;
                Err(Failure::Transport("timed out".into()))
            }
        }
    }

    /// Sends a query (with variables) and returns `data`, or why it failed.
    pub async fn gql(&mut self, query: &str, variables: Value) -> Result<Value, String> {
        let body = serde_json::json!({ "query": query, "variables": variables }).to_string();
        let resp = self.send(body.as_bytes()).await.map_err(|f| f.message())?;
        graphql_data(&resp).map_err(|f| f.message())
    }

    /// `cacheStats { hits misses }`.
    pub async fn cache_counts(&mut self) -> Result<(u64, u64), String> {
        let data = self
            .gql("{ cacheStats { hits misses } }", Value::Null)
            .await?;
        let get = |k: &str| data["cacheStats"][k].as_u64();
        match (get("hits"), get("misses")) {
            (Some(h), Some(m)) => Ok((h, m)),
            _ => Err(format!("unexpected cacheStats: {data}")),
        }
    }

    /// `clearCache`: the number of keys removed.
    pub async fn clear_cache(&mut self) -> Result<u64, String> {
        let data = self
            .gql("mutation { clearCache { cleared } }", Value::Null)
            .await?;
        data["clearCache"]["cleared"]
            .as_u64()
            .ok_or_else(|| format!("unexpected clearCache: {data}"))
    }

    /// `login`: the access token.
    pub async fn login(&mut self, email: &str, password: &str) -> Result<String, String> {
        let data = self
            .gql(
                "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }",
                serde_json::json!({ "email": email, "password": password }),
            )
            .await?;
        data["login"]["accessToken"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("unexpected login: {data}"))
    }
}

/// Everything one measured run needs.
pub struct RunSpec {
    pub db: String,
    pub backend: String,
    pub workload: Workload,
    pub target: Target,
    pub token: String,
    pub connections: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Whether the server has a cache to clear and count (not for backend `none`).
    pub has_cache: bool,
    pub layout: Arc<Layout>,
    pub picker: Arc<Picker>,
    pub writes: Arc<Writes>,
    /// W1's user.
    pub hot_id: u64,
}

/// What one run measured.
#[derive(Debug)]
pub struct RunResult {
    pub db: String,
    pub backend: String,
    pub workload: Workload,
    pub connections: usize,
    /// Length of the measured window.
    pub window_secs: f64,
    /// Responses that started and ended inside the window.
    pub responses: u64,
    pub throughput: f64,
    pub p50_us: Option<u64>,
    pub p90_us: Option<u64>,
    pub p99_us: Option<u64>,
    pub max_us: Option<u64>,
    pub mean_us: Option<f64>,
    pub cold_us: Option<u64>,
    /// Hits and misses counted by the server over the window.
    pub delta_hits: Option<u64>,
    pub delta_misses: Option<u64>,
    pub hit_rate: Option<f64>,
    /// Every request of the run: cold, warm-up and window.
    pub requests_total: u64,
    pub writes_ok: u64,
    /// Wrong answers over the whole run (cold, warm-up and window).
    pub failures: FailureCounts,
    /// Wrong answers inside the window.
    pub window_failures: u64,
    pub samples: Vec<String>,
    pub notes: Vec<String>,
}

struct Shared {
    spec: RunSpec,
    window_start: Instant,
    window_end: Instant,
    done: AtomicU64,
    wrong: AtomicU64,
    samples: Mutex<Vec<String>>,
}

impl Shared {
    fn record_failure(&self, op: Op, f: &Failure) {
        self.wrong.fetch_add(1, Ordering::Relaxed);
        let mut s = self.samples.lock().expect("samples lock");
        if s.len() < MAX_SAMPLES {
            s.push(format!("{op:?}: {}", f.message()));
        }
    }
}

#[derive(Default)]
struct TaskStats {
    window: Option<Histogram<u64>>,
    window_failures: u64,
    requests: u64,
    writes_ok: u64,
    failures: FailureCounts,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

fn choose(shared: &Shared, rng: &mut SmallRng) -> Op {
    let spec = &shared.spec;
    match spec.workload {
        Workload::W0 => Op::Typename,
        Workload::W1 => Op::User(spec.hot_id),
        Workload::W2 => Op::List,
        Workload::W3 => Op::User(spec.picker.pick(rng)),
        Workload::W4 => {
            if rng.random_bool(WRITE_SHARE)
                && let Some((id, n)) = spec.writes.claim(&spec.picker, rng)
            {
                return Op::Write(id, n);
            }
            Op::User(spec.picker.pick(rng))
        }
    }
}

/// One connection's loop: requests back to back until the window ends.
async fn connection_task(shared: Arc<Shared>, mut conn: Option<Conn>, seed: u64) -> TaskStats {
    let spec = &shared.spec;
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut stats = TaskStats::default();
    let mut hist = histogram();
    let mut body = Vec::with_capacity(512);
    let mut passed_page: Option<(Vec<u8>, u64)> = None;
    loop {
        let started = Instant::now();
        if started >= shared.window_end {
            break;
        }
        let op = choose(&shared, &mut rng);
        op.body(&mut body);
        let outcome = async {
            if conn.as_ref().is_none_or(|c| !c.is_open()) {
                conn = Some(
                    Conn::connect(&spec.target)
                        .await
                        .map_err(|e| Failure::Transport(format!("connect: {e}")))?,
                );
            }
            let c = conn.as_mut().expect("connected");
            match tokio::time::timeout(
                REQUEST_TIMEOUT,
                c.post_json(&spec.target.path, Some(&spec.token), &body),
            )
            .await
            {
                Ok(Ok(resp)) => Ok(resp),
                Ok(Err(e)) => Err(Failure::Transport(e.to_string())),
                Err(_) => Err(Failure::Transport("timed out".into())),
            }
        }
        .await;
        let ended = Instant::now();
        // A page identical, byte for byte, to one that passed every check, with no write
        // returned since, passes them again: skip re-parsing 100 users (the client would
        // otherwise be the bottleneck of W2).
        let verdict = outcome.and_then(|resp| {
            let returned = spec.writes.returned();
            if matches!(op, Op::List)
                && passed_page
                    .as_ref()
                    .is_some_and(|(body, at)| *at == returned && *body == resp.body)
            {
                return Ok(());
            }
            let verdict = op.check(&resp, started, &spec.layout, &spec.writes);
            if verdict.is_ok() && matches!(op, Op::List) {
                passed_page = Some((resp.body, returned));
            }
            verdict
        });
        if let Op::Write(id, n) = op {
            spec.writes.finish(id, n, verdict.is_ok());
            if verdict.is_ok() {
                stats.writes_ok += 1;
            }
        }
        stats.requests += 1;
        shared.done.fetch_add(1, Ordering::Relaxed);
        let in_window = started >= shared.window_start && ended <= shared.window_end;
        if in_window {
            let us = ended.duration_since(started).as_micros().max(1) as u64;
            hist.saturating_record(us);
        }
        if let Err(f) = verdict {
            stats.failures.add(&f);
            if in_window {
                stats.window_failures += 1;
            }
            shared.record_failure(op, &f);
            if matches!(f, Failure::Transport(_)) {
                conn = None;
                // Do not spin on a server that is gone.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    stats.window = Some(hist);
    stats
}

/// Where the progress bar is and what it says.
pub struct Progress<'a> {
    pub bar: &'a ProgressBar,
    /// Position (ms) at the start of this run.
    pub base_ms: u64,
    pub label: String,
}

/// Runs one workload: cold request, warm-up, measured window.
pub async fn run(spec: RunSpec, progress: Progress<'_>) -> RunResult {
    let mut notes = Vec::new();
    let mut failures = FailureCounts::default();
    let mut samples = Vec::new();
    let mut control = Client::new(spec.target.clone(), Some(spec.token.clone()));

    // Cold: an empty cache, then one request.
    if spec.has_cache
        && let Err(e) = control.clear_cache().await
    {
        notes.push(format!("clearCache failed: {e}"));
    }
    let cold_op = match spec.workload {
        Workload::W0 => Op::Typename,
        Workload::W1 => Op::User(spec.hot_id),
        Workload::W2 => Op::List,
        Workload::W3 | Workload::W4 => Op::User(spec.picker.pick(&mut rand::rng())),
    };
    let mut body = Vec::new();
    cold_op.body(&mut body);
    let started = Instant::now();
    let cold = control.send(&body).await;
    let cold_us = started.elapsed().as_micros() as u64;
    let cold_verdict = cold.and_then(|r| cold_op.check(&r, started, &spec.layout, &spec.writes));
    if let Err(f) = &cold_verdict {
        failures.add(f);
        samples.push(format!("cold {cold_op:?}: {}", f.message()));
    }

    // Open every connection before the clock starts.
    let mut conns = Vec::with_capacity(spec.connections);
    for _ in 0..spec.connections {
        match Conn::connect(&spec.target).await {
            Ok(c) => conns.push(Some(c)),
            Err(e) => {
                notes.push(format!("opening a connection failed: {e}"));
                conns.push(None);
            }
        }
    }

    let t0 = Instant::now();
    let window_start = t0 + spec.warmup;
    let window_end = window_start + spec.duration;
    let has_cache = spec.has_cache;
    let connections = spec.connections;
    let shared = Arc::new(Shared {
        spec,
        window_start,
        window_end,
        done: AtomicU64::new(0),
        wrong: AtomicU64::new(0),
        samples: Mutex::new(Vec::new()),
    });
    let base_seed: u64 = rand::rng().random();
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            tokio::spawn(connection_task(
                shared.clone(),
                c,
                base_seed ^ (i as u64 + 1),
            ))
        })
        .collect();

    // The window's cache counters, and the progress bar, from this task.
    let mut before = None;
    let tick = Duration::from_millis(200);
    let mut last_done = 0u64;
    let mut last_at = Instant::now();
    let mut rate = 0.0;
    loop {
        let now = Instant::now();
        if now >= window_end {
            break;
        }
        if before.is_none() && now >= window_start {
            before = Some(if has_cache {
                control.cache_counts().await
            } else {
                Err("no cache".into())
            });
            continue;
        }
        let next = if before.is_none() {
            window_start.min(now + tick)
        } else {
            window_end.min(now + tick)
        };
        tokio::time::sleep_until(next.into()).await;
        let done = shared.done.load(Ordering::Relaxed);
        let at = Instant::now();
        let dt = at.duration_since(last_at).as_secs_f64();
        if dt >= 0.19 {
            rate = (done - last_done) as f64 / dt;
            last_done = done;
            last_at = at;
        }
        let phase = if at < window_start {
            "warm-up"
        } else {
            "measure"
        };
        progress
            .bar
            .set_position(progress.base_ms + at.duration_since(t0).as_millis() as u64);
        progress.bar.set_message(format!(
            "{} {phase} {:.0} req/s, {} wrong",
            progress.label,
            rate,
            shared.wrong.load(Ordering::Relaxed) + failures.total()
        ));
    }

    let mut hist = histogram();
    let mut window_failures = 0;
    let mut requests_total = 1;
    let mut writes_ok = 0;
    for t in tasks {
        match t.await {
            Ok(s) => {
                if let Some(h) = &s.window {
                    hist.add(h).expect("same histogram bounds");
                }
                window_failures += s.window_failures;
                requests_total += s.requests;
                writes_ok += s.writes_ok;
                failures.merge(&s.failures);
            }
            Err(e) => notes.push(format!("a connection task failed: {e}")),
        }
    }
    let after = if has_cache {
        Some(control.cache_counts().await)
    } else {
        None
    };
    let (delta_hits, delta_misses, hit_rate) = match (before, after) {
        (Some(Ok((h0, m0))), Some(Ok((h1, m1)))) => {
            let (dh, dm) = (h1.saturating_sub(h0), m1.saturating_sub(m0));
            let rate = (dh + dm > 0).then(|| dh as f64 / (dh + dm) as f64 * 100.0);
            (Some(dh), Some(dm), rate)
        }
        (Some(Err(e)), _) | (_, Some(Err(e))) if has_cache => {
            notes.push(format!("cacheStats failed: {e}"));
            (None, None, None)
        }
        _ => (None, None, None),
    };
    samples.extend(shared.samples.lock().expect("samples lock").drain(..));
    samples.truncate(MAX_SAMPLES);

    let spec = &shared.spec;
    let window_secs = spec.duration.as_secs_f64();
    let responses = hist.len();
    let q = |x: f64| (responses > 0).then(|| hist.value_at_quantile(x));
    RunResult {
        db: spec.db.clone(),
        backend: spec.backend.clone(),
        workload: spec.workload,
        connections,
        window_secs,
        responses,
        throughput: responses as f64 / window_secs,
        p50_us: q(0.50),
        p90_us: q(0.90),
        p99_us: q(0.99),
        max_us: (responses > 0).then(|| hist.max()),
        mean_us: (responses > 0).then(|| hist.mean()),
        cold_us: Some(cold_us),
        delta_hits,
        delta_misses,
        hit_rate,
        requests_total,
        writes_ok,
        failures,
        window_failures,
        samples,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(id: u64, name: &str) -> Value {
        json!({
            "id": id.to_string(), "email": format!("user{id}@example.com"), "fullName": name,
            "isActive": true, "role": "USER",
            "createdAt": "2026-11-25T10:00:00+00:00", "updatedAt": "2026-11-25T10:00:00+00:00",
        })
    }

    fn resp(v: Value) -> Response {
        Response {
            status: 200,
            body: v.to_string().into_bytes(),
        }
    }

    #[test]
    fn names_parse() {
        assert_eq!(name_number("User 7", 7), Some(0));
        assert_eq!(name_number("User 7 #12", 7), Some(12));
        assert_eq!(name_number("User 8 #12", 7), None);
        assert_eq!(name_number("User 7 12", 7), None);
        assert_eq!(name_number("Someone", 7), None);
    }

    #[test]
    fn bodies_are_json() {
        let mut out = Vec::new();
        for op in [Op::Typename, Op::User(3), Op::List, Op::Write(3, 9)] {
            op.body(&mut out);
            let v: Value = serde_json::from_slice(&out).unwrap();
            assert!(v["query"].is_string(), "{op:?}");
        }
        Op::Write(3, 9).body(&mut out);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["variables"]["name"], "User 3 #9");
    }

    #[test]
    fn checks_catch_wrong_answers() {
        let layout = Layout { users: 200 };
        let writes = Writes::new(200, 1);
        let now = Instant::now();
        let ok = |op: Op, v: Value| op.check(&resp(v), now, &layout, &writes);
        assert!(ok(Op::Typename, json!({"data": {"__typename": "Query"}})).is_ok());
        assert!(ok(Op::Typename, json!({"data": {"__typename": "Mutation"}})).is_err());
        assert!(ok(Op::User(5), json!({"data": {"user": user(5, "User 5")}})).is_ok());
        assert!(ok(Op::User(5), json!({"data": {"user": user(6, "User 6")}})).is_err());
        assert!(ok(Op::User(5), json!({"data": {"user": null}})).is_err());
        assert!(
            ok(
                Op::User(5),
                json!({"data": null, "errors": [{"message": "x"}]})
            )
            .is_err()
        );
        let list: Vec<Value> = (1..=100).map(|i| user(i, &format!("User {i}"))).collect();
        assert!(ok(Op::List, json!({"data": {"users": list}})).is_ok());
        let mut swapped = list.clone();
        swapped.swap(3, 4);
        assert!(ok(Op::List, json!({"data": {"users": swapped}})).is_err());
        assert!(ok(Op::List, json!({"data": {"users": list[..99]}})).is_err());
        let bad_status = Response {
            status: 500,
            body: b"oops".to_vec(),
        };
        assert!(matches!(
            Op::Typename.check(&bad_status, now, &layout, &writes),
            Err(Failure::Status(_))
        ));
    }

    #[test]
    fn stale_reads_are_caught_and_fresh_ones_pass() {
        let layout = Layout { users: 10 };
        let writes = Writes::new(10, 1);
        let picker = Picker::new(1, None); // always user 1
        let mut rng = SmallRng::seed_from_u64(1);
        let before_write = Instant::now();
        let (id, n) = writes.claim(&picker, &mut rng).unwrap();
        assert_eq!((id, n), (1, 1));
        // A second writer cannot claim user 1 while the first write is in flight.
        assert!(writes.claim(&picker, &mut rng).is_none());
        let write = Op::Write(1, 1);
        assert!(
            write
                .check(
                    &resp(json!({"data": {"updateUser": user(1, "User 1 #1")}})),
                    before_write,
                    &layout,
                    &writes
                )
                .is_ok()
        );
        writes.finish(1, 1, true);
        std::thread::sleep(Duration::from_millis(2));
        let after_write = Instant::now();
        let old = resp(json!({"data": {"user": user(1, "User 1")}}));
        let new = resp(json!({"data": {"user": user(1, "User 1 #1")}}));
        // A read that started before the write returned may see either.
        assert!(
            Op::User(1)
                .check(&old, before_write, &layout, &writes)
                .is_ok()
        );
        // One that started after must see it.
        assert!(matches!(
            Op::User(1).check(&old, after_write, &layout, &writes),
            Err(Failure::Stale(_))
        ));
        assert!(
            Op::User(1)
                .check(&new, after_write, &layout, &writes)
                .is_ok()
        );
        // A number nobody wrote is wrong.
        let future = resp(json!({"data": {"user": user(1, "User 1 #99")}}));
        assert!(
            Op::User(1)
                .check(&future, after_write, &layout, &writes)
                .is_err()
        );
    }

    #[test]
    fn zipf_prefers_low_ranks() {
        let picker = Picker::new(1000, Some(1.2));
        let mut rng = SmallRng::seed_from_u64(7);
        let mut first = 0;
        for _ in 0..10_000 {
            let id = picker.pick(&mut rng);
            assert!((1..=1000).contains(&id));
            if id == 1 {
                first += 1;
            }
        }
        // P(rank 1) = 1 / H(1000, 1.2) ≈ 0.24.
        assert!((1800..3000).contains(&first), "{first}");
    }
}
