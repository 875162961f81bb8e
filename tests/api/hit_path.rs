//! What a cached read skips (looking up every entry of a response while nothing was
//! invalidated) keeps every guarantee of the response cache. (Requests and tokens seen before
//! are found by their bytes in every other response-cache test, which send each request more
//! than once; their own cases are unit tests beside them.)
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, Db, Spawn, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_seen_current_drops_when_any_user_on_it_changes_elsewhere() {
    let a = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let b = a.sibling().await;
    let ids = a.create_users("page", 20).await;
    let page = "{ users(skip: 0, limit: 40) { id fullName } }";
    let name_of = |body: &Value, id: &str| {
        body["data"]["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == id)
            .map(|u| u["fullName"].clone())
    };
    b.gql(page, json!({})).await; // loaded: not kept
    b.gql(page, json!({})).await; // from entries: kept
    let before = b.responses_served();
    // Twice from the response cache: the second is answered by the one-comparison check.
    b.gql(page, json!({})).await;
    b.gql(page, json!({})).await;
    assert_eq!(
        b.responses_served(),
        before + 2,
        "the page was not served from b's cache"
    );
    let target = &ids[16];
    a.gql(
        "mutation($id: ID!) { updateUser(id: $id, input: { fullName: \"Renamed on A\" }) { id } }",
        json!({ "id": target }),
    )
    .await;
    let after = b.gql(page, json!({})).await;
    assert_eq!(
        name_of(&after, target),
        Some(json!("Renamed on A")),
        "{after}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_checked_by_its_own_keys_drops_when_one_of_them_changes_elsewhere() {
    let a = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let b = a.sibling().await;
    let mine = a.create_user("mine@example.com", "USER").await;
    let others = a.create_users("other", 3).await;
    let read = "query($id: ID!) { user(id: $id) { fullName } }";
    let rename =
        "mutation($id: ID!, $n: String!) { updateUser(id: $id, input: { fullName: $n }) { id } }";
    b.gql(read, json!({ "id": mine })).await; // loaded: not kept
    b.gql(read, json!({ "id": mine })).await; // from entries: kept
    let by_mark = |app: &TestApp| app.l1_event("responses_checked_by_mark");
    let marked = by_mark(&b);
    // Writes to other users through A: each moves B's count of invalidations, so the first
    // read after them looks the entries up (and takes a mark), the next ones compare the
    // response's own keys with the mark.
    for (i, other) in others.iter().enumerate() {
        a.gql(rename, json!({ "id": other, "n": format!("Other {i}") }))
            .await;
        let before = b.responses_served();
        let body = b.gql(read, json!({ "id": mine })).await;
        assert_eq!(
            b.responses_served(),
            before + 1,
            "not served after write {i}"
        );
        assert_eq!(body["data"]["user"]["fullName"], "Test User", "{body}");
    }
    assert!(
        by_mark(&b) > marked,
        "no read after the first write was answered by the marks"
    );
    a.gql(rename, json!({ "id": mine, "n": "Renamed on A" }))
        .await;
    let after = b.gql(read, json!({ "id": mine })).await;
    assert_eq!(after["data"]["user"]["fullName"], "Renamed on A", "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_response_lives_no_longer_than_its_oldest_entry_may() {
    // Long enough that a loaded machine still keeps and serves the response in time (its
    // caller's entry, read a little earlier, limits it too); short enough for a test.
    let max_age = Duration::from_millis(3_000);
    let app = Spawn::new(Backend::Redis, Db::Sqlite)
        .env("CACHE_L1_MAX_AGE_MS", &max_age.as_millis().to_string())
        .start()
        .await
        .unwrap();
    let id = app.create_user("aged@example.com", "USER").await;
    let email = "query($id: ID!) { user(id: $id) { email } }";
    let name = "query($id: ID!) { user(id: $id) { fullName } }";
    app.gql(email, json!({ "id": id })).await; // loaded from the database
    app.gql(email, json!({ "id": id })).await; // the entry read into L1
    let read = Instant::now();
    // Another response is kept from that entry well after it was read…
    tokio::time::sleep(max_age / 3).await;
    app.gql(name, json!({ "id": id })).await;
    let before = app.responses_served();
    app.gql(name, json!({ "id": id })).await;
    assert_eq!(
        app.responses_served(),
        before + 1,
        "not kept from the entry"
    );
    // …and past the entry's age limit it is not served, though nothing changed.
    let limit = read + max_age + Duration::from_millis(50);
    tokio::time::sleep(limit.saturating_duration_since(Instant::now())).await;
    let before = app.responses_served();
    let body = app.gql(name, json!({ "id": id })).await;
    assert_eq!(body["data"]["user"]["fullName"], "Test User", "{body}");
    assert_eq!(
        app.responses_served(),
        before,
        "served a response older than its entry may be"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_memory_backend_entries_age_by_their_ttl_not_by_l1s_limit() {
    // The kept response lives this long after it is kept: the next request must come sooner.
    let max_age = Duration::from_millis(1_500);
    let app = Spawn::new(Backend::Memory, Db::Sqlite)
        .env("CACHE_L1_MAX_AGE_MS", &max_age.as_millis().to_string())
        .start()
        .await
        .unwrap();
    let id = app.create_user("stored@example.com", "USER").await;
    let by_id = "query($id: ID!) { user(id: $id) { email } }";
    app.gql(by_id, json!({ "id": id })).await; // loaded, and stored in the memory backend
    tokio::time::sleep(max_age + Duration::from_millis(100)).await;
    // The stored entry is older than L1's limit, which does not apply to it: kept and served.
    app.gql(by_id, json!({ "id": id })).await;
    let before = app.responses_served();
    app.gql(by_id, json!({ "id": id })).await;
    assert_eq!(
        app.responses_served(),
        before + 1,
        "a response of old memory entries was not kept"
    );
}
