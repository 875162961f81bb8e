//! Finer list invalidation: a page caches ids and reads its members through their own entries,
//! so an update drops only the responses of pages holding that user and reloads no page;
//! `userStats` is dropped only by what it counts; a create or a delete still shifts every page.
use serde_json::{Value, json};

use crate::helpers::{Backend, Db, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_reload_no_page_and_only_counted_fields_reload_stats_redis() {
    updates_reload_no_page(TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_reload_no_page_and_only_counted_fields_reload_stats_memory() {
    updates_reload_no_page(TestApp::spawn(Backend::Memory, Db::Sqlite).await.unwrap()).await;
}

const FIRST: &str = "{ users(skip: 0, limit: 10) { id email fullName role isActive } }";
const SECOND: &str = "{ users(skip: 10, limit: 10) { id email fullName role isActive } }";
const STATS: &str = "{ userStats { total active admins } }";

fn member<'a>(page: &'a Value, id: &str) -> Option<&'a Value> {
    page["data"]["users"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .find(|u| u["id"] == id)
}

/// Reads `query` until the response cache serves it: the first read loads, a later one keeps
/// (the first kept copy can be dropped by Redis's late notice of our own fill).
async fn served_from_responses(app: &TestApp, query: &str) {
    for _ in 0..20 {
        let served = app.responses_served();
        app.gql(query, json!({})).await;
        if app.responses_served() > served {
            return;
        }
    }
    panic!("{query} was never served from the response cache");
}

async fn updates_reload_no_page(app: TestApp) {
    let ids = app.create_users("member", 19).await;
    // ids[..9] are on the first page (after the admin), ids[9..] on the second.
    for query in [FIRST, SECOND, STATS] {
        served_from_responses(&app, query).await;
    }
    let stats = app.gql(STATS, json!({})).await["data"]["userStats"].clone();
    assert_eq!(stats, json!({ "total": 20, "active": 20, "admins": 1 }));
    let loads = app.db_loads();

    // A rename on the second page: no page is loaded again, the first page's response is still
    // served from the response cache, the second shows the new name, and so does every read.
    app.rename(&ids[14], "Renamed").await;
    let served = app.responses_served();
    app.gql(FIRST, json!({})).await;
    assert_eq!(
        app.responses_served(),
        served + 1,
        "the first page was dropped"
    );
    let second = app.gql(SECOND, json!({})).await;
    assert_eq!(member(&second, &ids[14]).unwrap()["fullName"], "Renamed");
    assert_eq!(app.gql(STATS, json!({})).await["data"]["userStats"], stats);
    assert_eq!(
        app.db_loads(),
        loads,
        "a rename reloaded a page or the counts"
    );

    // A role change and a deactivation: the counts move at once, the pages still load nothing.
    let changed = app
        .gql(
            "mutation($id: ID!) { updateUser(id: $id, input: { role: ADMIN, isActive: false }) { id } }",
            json!({ "id": ids[3] }),
        )
        .await;
    assert!(changed["errors"].is_null(), "{changed}");
    let first = app.gql(FIRST, json!({})).await;
    let changed = member(&first, &ids[3]).unwrap();
    assert_eq!(
        (&changed["role"], &changed["isActive"]),
        (&json!("ADMIN"), &json!(false))
    );
    assert_eq!(
        app.gql(STATS, json!({})).await["data"]["userStats"],
        json!({ "total": 20, "active": 19, "admins": 2 })
    );
    assert_eq!(
        app.db_loads(),
        loads + 1,
        "only the counts were to be loaded again"
    );

    // A delete on the first page shifts both pages.
    let deleted = app
        .gql(
            "mutation($id: ID!) { deleteUser(id: $id) }",
            json!({ "id": ids[2] }),
        )
        .await;
    assert_eq!(deleted["data"]["deleteUser"], true, "{deleted}");
    let first = app.gql(FIRST, json!({})).await;
    assert!(member(&first, &ids[2]).is_none(), "{first}");
    assert!(
        member(&first, &ids[9]).is_some(),
        "the first page did not shift: {first}"
    );
    let second = app.gql(SECOND, json!({})).await;
    assert!(member(&second, &ids[9]).is_none(), "{second}");
    assert_eq!(
        app.gql(STATS, json!({})).await["data"]["userStats"],
        json!({ "total": 19, "active": 18, "admins": 2 })
    );
    // And a create appears on the page it lands on.
    let created = app.create_user("member-new@example.com", "USER").await;
    let second = app.gql(SECOND, json!({})).await;
    assert!(member(&second, &created).is_some(), "{second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_whose_member_entry_is_missing_reads_only_that_member() {
    let app = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let ids = app.create_users("gap", 5).await;
    let page = "{ users(skip: 0, limit: 10) { id fullName } }";
    app.gql(page, json!({})).await;
    let evicted = app
        .gql(
            "mutation($p: String!) { clearCache(pattern: $p) { cleared } }",
            json!({ "p": format!("user:{}", ids[2]) }),
        )
        .await;
    assert_eq!(evicted["data"]["clearCache"]["cleared"], 1, "{evicted}");
    let loads = app.db_loads();
    let again = app.gql(page, json!({})).await;
    assert_eq!(
        again["data"]["users"].as_array().unwrap().len(),
        6,
        "{again}"
    );
    assert_eq!(
        app.db_loads(),
        loads + 1,
        "one query for the missing member, not the page"
    );
}
