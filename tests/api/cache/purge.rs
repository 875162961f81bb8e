//! Invalidation by hand (`invalidateEntity`, `invalidateTag`, `invalidateType`), for changes
//! made behind the API's back: counted in what it dropped, and exact. Soft purges are in
//! `soft_purge`.
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{Backend, Db, Spawn, TestApp, code};
use cachegraph::cache::pause::Point;

/// Runs `sql` on the app's database directly, as a migration or a fix by hand would.
pub(super) async fn behind_the_api(app: &TestApp, sql: &str) {
    let db = &app.state.db;
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
}

pub(super) async fn insert_behind(app: &TestApp, email: &str) {
    behind_the_api(
        app,
        &format!(
            "INSERT INTO users (email, full_name, password_hash, is_active, role, created_at, \
             updated_at, version) VALUES ('{email}', 'Behind', 'x', TRUE, 'user', \
             '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00', 1)"
        ),
    )
    .await;
}

pub(super) async fn admin_ok(app: &TestApp, query: &str) -> Value {
    let body = app.gql(query, json!({})).await;
    assert!(body["errors"].is_null(), "{query}: {body}");
    body["data"].clone()
}

pub(super) fn total(body: &Value) -> u64 {
    body["data"]["userStats"]["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("{body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entity_purge_drops_its_entry_and_the_responses_built_from_it() {
    for backend in [Backend::Redis, Backend::Memory] {
        let app = TestApp::spawn(backend, Db::Sqlite).await.unwrap();
        let id = app.create_user("purged@example.com", "USER").await;
        let by_id = format!("{{ user(id: \"{id}\") {{ fullName }} }}");
        for _ in 0..3 {
            admin_ok(&app, &by_id).await;
        }
        behind_the_api(
            &app,
            &format!("UPDATE users SET full_name = 'Fixed' WHERE id = {id}"),
        )
        .await;
        // The cache cannot know: it serves what it holds until told.
        assert_ne!(admin_ok(&app, &by_id).await["user"]["fullName"], "Fixed");
        let purged = admin_ok(
            &app,
            &format!("mutation {{ invalidateEntity(type: \"user\", id: \"{id}\") {{ entries responses soft }} }}"),
        )
        .await;
        let purged = &purged["invalidateEntity"];
        assert_eq!(purged["entries"], 1, "{backend:?}: {purged}");
        assert!(
            purged["responses"].as_i64().unwrap() >= 1,
            "{backend:?}: {purged}"
        );
        assert_eq!(purged["soft"], false);
        assert_eq!(admin_ok(&app, &by_id).await["user"]["fullName"], "Fixed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_purge_counts_its_entries_and_drops_every_page() {
    for backend in [Backend::Redis, Backend::Memory] {
        let app = TestApp::spawn(backend, Db::Sqlite).await.unwrap();
        app.create_users("tagged", 12).await;
        let pages = [
            "{ users(skip: 0, limit: 10) { email } }",
            "{ users(skip: 10, limit: 10) { email } }",
        ];
        for page in pages {
            for _ in 0..3 {
                admin_ok(&app, page).await;
            }
        }
        insert_behind(&app, "behind@example.com").await;
        let second = admin_ok(&app, pages[1]).await;
        assert_eq!(second["users"].as_array().unwrap().len(), 3, "{second}");
        let purged = admin_ok(
            &app,
            "mutation { invalidateTag(tag: \"users\") { entries responses soft } }",
        )
        .await;
        let purged = &purged["invalidateTag"];
        assert_eq!(purged["entries"], 2, "{backend:?}: {purged}");
        assert!(
            purged["responses"].as_i64().unwrap() >= 2,
            "{backend:?}: {purged}"
        );
        // The pages of the generation just passed are dead already: a second purge drops none.
        let again = admin_ok(
            &app,
            "mutation { invalidateTag(tag: \"users\") { entries responses } }",
        )
        .await;
        assert_eq!(
            again["invalidateTag"],
            json!({ "entries": 0, "responses": 0 }),
            "{backend:?}"
        );
        let second = admin_ok(&app, pages[1]).await;
        let emails: Vec<&str> = second["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap())
            .collect();
        assert_eq!(
            emails.last(),
            Some(&"behind@example.com"),
            "{backend:?}: {second}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_type_purge_drops_every_entity_and_what_is_derived_from_them() {
    let app = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let id = app.create_user("typed@example.com", "USER").await;
    app.user(&id).await;
    admin_ok(&app, "{ users { email } userStats { total } }").await;
    behind_the_api(
        &app,
        &format!("UPDATE users SET full_name = 'Typed' WHERE id = {id}"),
    )
    .await;
    insert_behind(&app, "typed-behind@example.com").await;
    let purged = admin_ok(
        &app,
        "mutation { invalidateType(type: \"user\") { entries responses } }",
    )
    .await;
    // user:1 and user:{id}, at least, then the page and the counts.
    assert!(
        purged["invalidateType"]["entries"].as_i64().unwrap() >= 4,
        "{purged}"
    );
    assert_eq!(app.name_of(&id).await, "Typed");
    let after = admin_ok(&app, "{ users { email } userStats { total } }").await;
    assert_eq!(after["userStats"]["total"], 3, "{after}");
    assert_eq!(after["users"].as_array().unwrap().len(), 3, "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purges_are_for_admins_and_check_their_arguments() {
    let app = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let bad = [
        (
            "mutation { invalidateEntity(type: \"nope\", id: \"1\") { entries } }",
            "BAD_USER_INPUT",
        ),
        (
            "mutation { invalidateEntity(type: \"user\", id: \"x\") { entries } }",
            "BAD_USER_INPUT",
        ),
        (
            "mutation { invalidateTag(tag: \"*\") { entries } }",
            "BAD_USER_INPUT",
        ),
        (
            "mutation { invalidateTag(tag: \"\") { entries } }",
            "BAD_USER_INPUT",
        ),
        (
            "mutation { invalidateType(type: \"email\") { entries } }",
            "BAD_USER_INPUT",
        ),
    ];
    for (query, expected) in bad {
        assert_eq!(code(&app.gql(query, json!({})).await), expected, "{query}");
    }
    let (_, token) = app.user_with_token("plain@example.com").await;
    for query in [
        "mutation { invalidateEntity(type: \"user\", id: \"1\") { entries } }",
        "mutation { invalidateTag(tag: \"users\") { entries } }",
        "mutation { invalidateType(type: \"user\") { entries } }",
    ] {
        assert_eq!(
            code(&app.gql_as(Some(&token), query, json!({})).await),
            "FORBIDDEN",
            "{query}"
        );
        assert_eq!(
            code(&app.gql_as(None, query, json!({})).await),
            "UNAUTHENTICATED",
            "{query}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_type_purge_counts_entries_not_the_leases_of_fills_in_flight() {
    use fred::prelude::KeysInterface;
    use futures::TryStreamExt;
    let app = Spawn::new(Backend::Redis, Db::Sqlite)
        .with_pause_points()
        .start()
        .await
        .unwrap();
    let id = app.create_user("leased@example.com", "USER").await;
    let key = format!("{}user:{id}", app.namespace());
    let client = app.redis_client().await;
    // Its entry gone, a read misses: it takes the fill lease and is held before its fill.
    client.del::<(), _>(&key).await.unwrap();
    let mut gate = app.points().arm(Point::BeforeFill, &key);
    let reader = app.spawn_gql(format!("{{ user(id: \"{id}\") {{ fullName }} }}"));
    gate.reached().await;
    let mut entries = 0;
    let mut leases = 0;
    let pattern = format!("{}user:*", app.namespace());
    let mut scan = Box::pin(client.scan_buffered(pattern, Some(100), None));
    while let Some(found) = scan.try_next().await.unwrap() {
        match found.into_string().unwrap().ends_with(":lease") {
            true => leases += 1,
            false => entries += 1,
        }
    }
    assert_eq!(leases, 1, "the held fill holds its lease");
    let purged = admin_ok(
        &app,
        "mutation { invalidateType(type: \"user\") { entries } }",
    )
    .await;
    assert_eq!(purged["invalidateType"]["entries"], entries);
    gate.release();
    assert!(reader.await.unwrap()["errors"].is_null());
}
