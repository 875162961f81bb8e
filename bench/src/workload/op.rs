//! One request of a workload: the JSON body it sends and the check of its response.
//!
//! The body is written into a reused buffer (the load loop sends many per second); the check
//! delegates to `check` for the parts every user object must pass.
use std::time::Instant;

use serde_json::Value;

use super::{
    check::{Failure, check_user, graphql_data},
    picker::Layout,
    writes::Writes,
};
use crate::http::Response;

/// The fields every user selection asks for.
const USER_FIELDS: &str = "id email fullName isActive role createdAt updatedAt";

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::picker::Picker;
    use rand::{SeedableRng, rngs::SmallRng};
    use serde_json::json;
    use std::time::Duration;

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
}
