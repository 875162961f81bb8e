//! Client-chosen ids cannot fill Redis for long: a lookup of an id no user has is cached as
//! "no such id" (so a repeated miss spares the database), in one entry per id that lives 15 s
//! at most (less if `CACHE_USER_TTL` is shorter); a caller spraying ids leaves at most the ids
//! it asked for in 15 s (up to `MAX_QUERY_ALIASES` per request) of them.
use fred::prelude::*;
use serde_json::json;

use super::app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_id_leaves_one_entry_that_lives_15_s_at_most() {
    let app = app().await;
    let (_, token) = app.user_with_token("sprayer@example.com").await;
    let ids: Vec<i64> = (0..20).map(|i| 900_000_000 + i * 7_919).collect();
    let ask_all = || async {
        for id in &ids {
            let body = app
                .gql_as(
                    Some(&token),
                    "query($id: ID!) { user(id: $id) { id } }",
                    json!({ "id": id.to_string() }),
                )
                .await;
            assert!(
                body["errors"].is_null() && body["data"]["user"].is_null(),
                "{body}"
            );
        }
    };
    ask_all().await;
    let loads = app.db_loads();
    ask_all().await;
    assert_eq!(
        app.db_loads(),
        loads,
        "a repeated miss went to the database"
    );
    let client = app.redis.as_ref().unwrap().client().await;
    for id in &ids {
        let key = format!("{}user:{id}", app.namespace());
        let raw: Option<String> = client.get(&key).await.unwrap();
        assert_eq!(raw.as_deref(), Some(r#"{"v":0,"d":null}"#), "{key}");
        let left: i64 = client.pttl(&key).await.unwrap();
        assert!((1..=15_000).contains(&left), "{key} lives {left} ms more");
    }
}
