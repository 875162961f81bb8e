//! The whole-response cache: served while current, invalidated exactly — including every case
//! a TTL-based response cache gets wrong.
use serde_json::{Value, json};

use crate::helpers::{Backend, Db, Spawn, TestApp, code};

/// Runs `query` twice as the admin and checks the second answer came from the response cache
/// and equals the first.
async fn cached(app: &TestApp, query: &str, vars: Value) -> Value {
    let first = app.gql(query, vars.clone()).await;
    let before = app.responses_served();
    let second = app.gql(query, vars).await;
    assert_eq!(first, second);
    assert_eq!(
        app.responses_served(),
        before + 1,
        "second answer not from the response cache: {query}"
    );
    second
}

async fn each_backend(f: impl AsyncFn(TestApp)) {
    for backend in [Backend::Redis, Backend::Memory] {
        f(TestApp::spawn(backend, Db::Sqlite).await.unwrap()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_user_appears_in_a_cached_list_tail() {
    each_backend(async |app| {
        let q = "{ users(skip: 0, limit: 50) { email } }";
        app.gql(q, json!({})).await; // loaded from the database: not kept yet
        let before = cached(&app, q, json!({})).await;
        assert_eq!(before["data"]["users"].as_array().unwrap().len(), 1);
        app.create_user("tail@example.com", "USER").await;
        let after = app.gql(q, json!({})).await;
        assert_eq!(
            after["data"]["users"][1]["email"], "tail@example.com",
            "{after}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_null_for_an_id_or_email_is_dropped_when_created() {
    each_backend(async |app| {
        let probe = app.create_user("probe@example.com", "USER").await;
        let next = (probe.parse::<i64>().unwrap() + 1).to_string();
        let by_id = "query($id: ID!) { user(id: $id) { email } }";
        // a miss is loaded from the database first, then served from entries
        app.gql(by_id, json!({ "id": next })).await;
        let null = cached(&app, by_id, json!({ "id": next })).await;
        assert!(null["data"]["user"].is_null());
        let by_email = "query($e: String!) { userByEmail(email: $e) { id } }";
        let none = app.gql(by_email, json!({ "e": "later@example.com" })).await;
        assert!(none["data"]["userByEmail"].is_null());

        assert_eq!(app.create_user("later@example.com", "USER").await, next);
        let found = app.gql(by_id, json!({ "id": next })).await;
        assert_eq!(
            found["data"]["user"]["email"], "later@example.com",
            "{found}"
        );
        let found = app.gql(by_email, json!({ "e": "later@example.com" })).await;
        assert_eq!(found["data"]["userByEmail"]["id"], next.as_str(), "{found}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_email_changes_and_role_changes_show_at_once() {
    each_backend(async |app| {
        let id = app.create_user("change@example.com", "USER").await;
        let by_id = "query($id: ID!) { user(id: $id) { email role } }";
        let by_email = "query($e: String!) { userByEmail(email: $e) { id role } }";
        let list = "{ users(limit: 100) { email } }";
        app.gql(by_id, json!({ "id": id })).await;
        cached(&app, by_id, json!({ "id": id })).await;
        app.gql(by_email, json!({ "e": "change@example.com" })).await;
        cached(&app, by_email, json!({ "e": "change@example.com" })).await;
        app.gql(list, json!({})).await;
        cached(&app, list, json!({})).await;

        app.gql(
            "mutation($id: ID!) { updateUser(id: $id, input: { role: ADMIN }) { id } }",
            json!({ "id": id }),
        )
        .await;
        assert_eq!(app.gql(by_id, json!({ "id": id })).await["data"]["user"]["role"], "ADMIN");
        let body = app.gql(by_email, json!({ "e": "change@example.com" })).await;
        assert_eq!(body["data"]["userByEmail"]["role"], "ADMIN");

        app.gql(
            "mutation($id: ID!) { updateUser(id: $id, input: { email: \"moved@example.com\" }) { id } }",
            json!({ "id": id }),
        )
        .await;
        let old = app.gql(by_email, json!({ "e": "change@example.com" })).await;
        assert!(old["data"]["userByEmail"].is_null(), "{old}");
        let emails = app.gql(list, json!({})).await;
        assert!(emails.to_string().contains("moved@example.com") && !emails.to_string().contains("change@"));

        app.gql("mutation($id: ID!) { deleteUser(id: $id) }", json!({ "id": id })).await;
        assert!(app.gql(by_id, json!({ "id": id })).await["data"]["user"].is_null());
        assert!(!app.gql(list, json!({})).await.to_string().contains("moved@example.com"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_are_still_checked_and_me_is_per_caller() {
    each_backend(async |app| {
        let (id, token) = app.user_with_token("caller@example.com").await;
        let list = "{ users(limit: 10) { email } }";
        app.gql(list, json!({})).await;
        cached(&app, list, json!({})).await;
        // the same cached list, asked by another authenticated user, is served to them too
        let as_user = app.gql_as(Some(&token), list, json!({})).await;
        assert!(as_user["errors"].is_null(), "{as_user}");
        // no token, bad token: refused, never served from the cache
        assert_eq!(
            code(&app.gql_as(None, list, json!({})).await),
            "UNAUTHENTICATED"
        );
        assert_eq!(
            code(&app.gql_as(Some("x.y.z"), list, json!({})).await),
            "UNAUTHENTICATED"
        );
        // `me` is the caller's own
        let me = "{ me { email } }";
        app.gql(me, json!({})).await;
        cached(&app, me, json!({})).await;
        let mine = app.gql_as(Some(&token), me, json!({})).await;
        assert_eq!(mine["data"]["me"]["email"], "caller@example.com", "{mine}");
        // deactivated: refused even though the response is cached
        app.gql(
            "mutation($id: ID!) { updateUser(id: $id, input: { isActive: false }) { id } }",
            json!({ "id": id }),
        )
        .await;
        assert_eq!(
            code(&app.gql_as(Some(&token), list, json!({})).await),
            "UNAUTHENTICATED"
        );
        // errors and mutations are never cached
        let before = app.responses_served();
        for _ in 0..2 {
            app.gql("{ users(limit: 0) { id } }", json!({})).await;
            app.gql(
                "mutation { clearCache(pattern: \"nothing-here:*\") { cleared } }",
                json!({}),
            )
            .await;
        }
        assert_eq!(app.responses_served(), before);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_instance_invalidates_responses_on_the_other() {
    let a = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let b = a.sibling().await;
    let id = a.create_user("pair@example.com", "USER").await;
    let by_id = "query($id: ID!) { user(id: $id) { fullName } }";
    b.gql(by_id, json!({ "id": id })).await;
    cached(&b, by_id, json!({ "id": id })).await;
    a.gql(
        "mutation($id: ID!) { updateUser(id: $id, input: { fullName: \"From A\" }) { id } }",
        json!({ "id": id }),
    )
    .await;
    let body = b.gql(by_id, json!({ "id": id })).await;
    assert_eq!(body["data"]["user"]["fullName"], "From A", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_switch_turns_it_off() {
    let app = Spawn::new(Backend::Redis, Db::Sqlite)
        .env("CACHE_RESPONSES", "false")
        .start()
        .await
        .unwrap();
    assert!(app.state.users.store().cache().responses().is_none());
    let stats = app
        .gql("{ cacheStats { responsesServed } }", json!({}))
        .await;
    assert!(
        stats["data"]["cacheStats"]["responsesServed"].is_null(),
        "{stats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_me_follows_every_change_of_its_caller() {
    each_backend(async |app| {
        let (id, token) = app.user_with_token("hal@example.com").await;
        let me = "{ me { fullName role } }";
        let set_name = async |name: &str| {
            app.rename(&id, name).await;
        };
        // Each change makes the kept answer stale; the answer kept after it must depend on the
        // caller's new entry too (the caller is first resolved by the stale check there).
        for name in ["Hal 1", "Hal 2", "Hal 3"] {
            set_name(name).await;
            for _ in 0..3 {
                let body = app.gql_as(Some(&token), me, json!({})).await;
                assert_eq!(body["data"]["me"]["fullName"], name, "{body}");
            }
        }
        let promote = "mutation($id: ID!) { updateUser(id: $id, input: { role: ADMIN }) { id } }";
        app.gql(promote, json!({ "id": id })).await;
        let body = app.gql_as(Some(&token), me, json!({})).await;
        assert_eq!(body["data"]["me"]["role"], "ADMIN", "{body}");
    })
    .await;
}

/// Nothing is kept by default: a response is kept only when every root field of it declared
/// a cache policy. `cacheStats` declares none, so beside a declared field it makes the whole
/// response uncacheable (its counters move on between the two answers); the declared field
/// alone, or with `__typename`, is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_is_kept_only_when_every_root_field_declared_a_policy() {
    each_backend(async |app| {
        let mixed = "{ me { id } cacheStats { hits misses } }";
        app.gql(mixed, json!({})).await;
        let before = app.responses_served();
        let first = app.gql(mixed, json!({})).await;
        let second = app.gql(mixed, json!({})).await;
        assert_eq!(
            app.responses_served(),
            before,
            "an undeclared root field was served"
        );
        assert_ne!(first["data"]["cacheStats"], second["data"]["cacheStats"]);
        let declared = "{ me { id } __typename }";
        app.gql(declared, json!({})).await;
        cached(&app, declared, json!({})).await;
    })
    .await;
}
