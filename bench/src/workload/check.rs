//! Why a response is wrong, and the checks every response goes through: a GraphQL answer with
//! `data`, and each user in it a seeded user with a name at least as fresh as W4's returned
//! writes.
//!
//! Shared by the requests of a workload (`op`) and by the control client (`client`).
use std::time::Instant;

use serde_json::Value;

use super::{picker::Layout, writes::Writes};
use crate::http::Response;

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
    pub(super) fn message(&self) -> String {
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

    pub(super) fn add(&mut self, f: &Failure) {
        match f {
            Failure::Transport(_) => self.transport += 1,
            Failure::Status(_) => self.http_status += 1,
            Failure::GraphQl(_) => self.graphql_errors += 1,
            Failure::Data(_) => self.wrong_data += 1,
            Failure::Stale(_) => self.stale_reads += 1,
        }
    }

    pub(super) fn merge(&mut self, o: &FailureCounts) {
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
pub(super) fn check_user(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!(name_number("User 7", 7), Some(0));
        assert_eq!(name_number("User 7 #12", 7), Some(12));
        assert_eq!(name_number("User 8 #12", 7), None);
        assert_eq!(name_number("User 7 12", 7), None);
        assert_eq!(name_number("Someone", 7), None);
    }
}
