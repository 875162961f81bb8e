//! Announced writes (see `cache::announce`): a rename moves no tag while no write that may
//! move one is in flight, and every tag while one is announced.
use fred::prelude::*;

use super::redis_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_moves_no_tag_unless_a_write_is_announced() {
    let app = redis_app().await;
    let client = app.redis_client().await;
    let ns = app.namespace();
    let id = app.create_user("announced@example.com", "USER").await;
    let gens = [
        format!("{ns}{{users}}:gen"),
        format!("{ns}{{user-counts}}:gen"),
    ];
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
    let writing = format!("{ns}writing:user");
    // Sorted sets through scripts: the client is built without their commands.
    let announced = async || {
        let script = "return redis.call('ZCARD', KEYS[1])";
        client
            .eval::<u64, _, _, _>(script, vec![writing.as_str()], Vec::<String>::new())
            .await
            .unwrap()
    };
    let announce = async |lapses_ms: u64, token: &str| {
        let script = "return redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])";
        let args = vec![lapses_ms.to_string(), token.to_owned()];
        client
            .eval::<u64, _, _, _>(script, vec![writing.as_str()], args)
            .await
            .unwrap();
    };
    // The create retires its announcement just after its answer (bounded look).
    let mut retired = false;
    for _ in 0..200 {
        if announced().await == 0 {
            retired = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(retired, "the create never retired its announcement");
    let before = generations().await;
    app.gql(&rename("Quiet"), serde_json::json!({})).await;
    assert_eq!(
        generations().await,
        before,
        "a rename with nothing in flight moved a tag"
    );
    // A write that may move a tag is in flight (its token announced, as before its commit).
    let lapses = (std::time::SystemTime::now() + std::time::Duration::from_secs(60))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    announce(lapses, "in-flight").await;
    app.gql(&rename("Covering"), serde_json::json!({})).await;
    let after = generations().await;
    assert!(
        after.iter().zip(&before).all(|(a, b)| a > b),
        "a rename beside an announced write left a tag: {before:?} -> {after:?}"
    );
    // A lapsed announcement is not one.
    client.del::<(), _>(&writing).await.unwrap();
    announce(lapses - 120_000, "lapsed").await;
    app.gql(&rename("Lapsed"), serde_json::json!({})).await;
    assert_eq!(
        generations().await,
        after,
        "a lapsed announcement moved a tag"
    );
}
