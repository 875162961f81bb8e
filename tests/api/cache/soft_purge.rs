//! Soft purges (`invalidateTag(soft: true)`): the tag's entries are invalidated, but one
//! request, of every instance and under any key of the tag, is served an old value once more
//! while it refreshes that entry; every other request misses.
use serde_json::{Value, json};

use super::purge::{admin_ok, behind_the_api, insert_behind, total};
use crate::helpers::{Backend, Db, Spawn, TestApp};
use cachegraph::cache::pause::Point;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soft_purge_serves_the_old_value_at_most_once_while_it_refreshes() {
    for backend in [Backend::Redis, Backend::Memory] {
        let app = TestApp::spawn(backend, Db::Sqlite).await.unwrap();
        let stats = "{ userStats { total } }";
        assert_eq!(total(&app.gql(stats, json!({})).await), 1);
        insert_behind(&app, "soft@example.com").await;
        assert_eq!(total(&app.gql(stats, json!({})).await), 1, "not cached");
        let purged = admin_ok(
            &app,
            "mutation { invalidateTag(tag: \"user-counts\", soft: true) { entries soft } }",
        )
        .await;
        assert_eq!(
            purged["invalidateTag"],
            json!({ "entries": 1, "soft": true }),
            "{backend:?}"
        );
        // Many readers at once: at most one is served the old count.
        let readers: Vec<_> = (0..8).map(|_| app.spawn_gql(stats.to_owned())).collect();
        let mut old = 0;
        for reader in readers {
            match total(&reader.await.unwrap()) {
                1 => old += 1,
                2 => {}
                other => panic!("{backend:?}: total {other}"),
            }
        }
        assert!(
            old <= 1,
            "{backend:?}: the old count was served {old} times"
        );
        if backend == Backend::Redis && old == 1 {
            // The request it was served to took the soft mark (bounded look: the mark's
            // deletion reaches Redis before that response, so this finds it gone at once).
            use fred::prelude::KeysInterface;
            let client = app.redis_client().await;
            let mark = format!("{}{{user-counts}}:soft", app.namespace());
            let mut gone = false;
            for _ in 0..200 {
                if client.exists::<u64, _>(&mark).await.unwrap() == 0 {
                    gone = true;
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            assert!(gone, "the soft mark outlived the old value's serving");
        }
        for _ in 0..3 {
            assert_eq!(total(&app.gql(stats, json!({})).await), 2, "{backend:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_after_a_soft_purge_ends_the_stale_value_at_once() {
    let app = TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap();
    let stats = "{ userStats { total } }";
    app.gql(stats, json!({})).await;
    admin_ok(
        &app,
        "mutation { invalidateTag(tag: \"user-counts\", soft: true) { entries } }",
    )
    .await;
    app.create_user("after-soft@example.com", "USER").await;
    assert_eq!(
        total(&app.gql(stats, json!({})).await),
        2,
        "a soft purge outlived a write"
    );
}

/// The emails of a `users` page.
fn emails(body: &Value) -> Vec<String> {
    body["users"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soft_purge_serves_one_old_value_per_tag_whatever_the_key() {
    for backend in [Backend::Redis, Backend::Memory] {
        let app = Spawn::new(backend, Db::Sqlite)
            .with_pause_points()
            .start()
            .await
            .unwrap();
        app.create_users("soft-page", 12).await;
        let pages = [
            "{ users(skip: 0, limit: 10) { email } }",
            "{ users(skip: 10, limit: 10) { email } }",
        ];
        let mut before = Vec::new();
        for page in pages {
            admin_ok(&app, page).await;
            before.push(emails(&admin_ok(&app, page).await));
        }
        // A user of the first page goes behind the API's back: both pages shift.
        behind_the_api(
            &app,
            "DELETE FROM users WHERE email = 'soft-page0@example.com'",
        )
        .await;
        admin_ok(
            &app,
            "mutation { invalidateTag(tag: \"users\", soft: true) { entries } }",
        )
        .await;
        // The first read is served its old page, and its refresh is held before its fill.
        let first = format!("{}{{users}}:list:0:10", app.namespace());
        let mut gate = app.points().arm(Point::BeforeFill, &first);
        assert_eq!(
            emails(&admin_ok(&app, pages[0]).await),
            before[0],
            "{backend:?}"
        );
        gate.reached().await;
        // Meanwhile no other read of the tag, under that key or another, gets an old value.
        for (i, page) in pages.iter().enumerate().rev() {
            let now = emails(&admin_ok(&app, page).await);
            assert_ne!(now, before[i], "{backend:?}: page {i} served old twice");
            assert!(
                !now.contains(&"soft-page0@example.com".to_owned()),
                "{backend:?}: page {i}: {now:?}"
            );
        }
        gate.release();
        for (i, page) in pages.iter().enumerate() {
            assert_ne!(
                emails(&admin_ok(&app, page).await),
                before[i],
                "{backend:?}"
            );
        }
    }
}
