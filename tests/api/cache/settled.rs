//! Settled entries (see `cache::protocol`): a write-through settles its entry once the tags its
//! write moves have moved. A write that replaces the settled version just before its own moves
//! only its own tags (a rename, none); one that does not (the entry was filled by a read,
//! evicted, or the write before it is still in flight) moves every tag first.
use fred::prelude::*;

use super::redis_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_moves_no_tag_after_a_settled_version_and_every_tag_otherwise() {
    let app = redis_app().await;
    let client = app.redis_client().await;
    let ns = app.namespace();
    let id = app.create_user("settled@example.com", "USER").await;
    let key = format!("{ns}user:{id}");
    let gens = [
        format!("{ns}{{users}}:gen"),
        format!("{ns}{{user-counts}}:gen"),
    ];
    let entry = async || client.get::<String, _>(&key).await.unwrap();
    let generations = async || {
        let mut found = Vec::new();
        for gen_key in &gens {
            found.push(client.get::<u64, _>(gen_key).await.unwrap());
        }
        found
    };
    let rename = |name: &str| {
        format!(
            "mutation {{ updateUser(id: \"{id}\", input: {{ fullName: \"{name}\" }}) {{ id }} }}"
        )
    };
    assert!(
        entry().await.starts_with(r#"{"v":1,"s":1,"d":"#),
        "{}",
        entry().await
    );
    let before = generations().await;
    app.gql(&rename("Once"), serde_json::json!({})).await;
    assert!(
        entry().await.starts_with(r#"{"v":2,"s":1,"d":"#),
        "{}",
        entry().await
    );
    assert_eq!(
        generations().await,
        before,
        "a rename after a settled version moved a tag"
    );
    // Evicted, then filled by a read: the entry is no longer known settled.
    client.del::<(), _>(&key).await.unwrap();
    app.user(&id).await;
    assert!(
        entry().await.starts_with(r#"{"v":2,"d":"#),
        "{}",
        entry().await
    );
    app.gql(&rename("Twice"), serde_json::json!({})).await;
    let after = generations().await;
    assert!(
        after.iter().zip(&before).all(|(a, b)| a > b),
        "a rename after an unsettled entry left a tag: {before:?} -> {after:?}"
    );
    assert!(
        entry().await.starts_with(r#"{"v":3,"s":1,"d":"#),
        "{}",
        entry().await
    );
}
