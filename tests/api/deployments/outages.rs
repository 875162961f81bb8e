//! Outages and partitions with two instances: after Redis is paused under one instance's
//! writes, or while one instance is cut off from Redis, the other serves nothing stale, lets no
//! demoted admin act and no deactivated user in.
use serde_json::json;

use super::{by_email, listed_name};
use crate::{
    helpers::{Backend, Db, PASSWORD, Spawn, TestApp, TestDb, code},
    proxy::Proxy,
    topology::{Redis, Topology},
};

/// Three users warmed on `reader`'s caches: one to rename, an admin to demote, one to
/// deactivate; the tokens of the last two.
struct Victims {
    id: String,
    email: String,
    boss: String,
    boss_token: String,
    leaver: String,
    leaver_token: String,
}

impl Victims {
    /// Created through `creator`, read twice through `reader` (so L1 and responses hold them).
    async fn warm(creator: &TestApp, reader: &TestApp, email: &str) -> Self {
        let id = creator.create_user(email, "USER").await;
        let boss = creator.create_user("demoted@example.com", "ADMIN").await;
        let boss_token = creator.login("demoted@example.com", PASSWORD).await;
        let (leaver, leaver_token) = creator.user_with_token("leaver@example.com").await;
        for _ in 0..2 {
            reader.name_of(&id).await;
            by_email(reader, email).await;
            reader
                .gql_as(Some(&boss_token), "{ me { role } }", json!({}))
                .await;
            reader
                .gql_as(Some(&leaver_token), "{ me { id } }", json!({}))
                .await;
        }
        Self {
            id,
            email: email.to_owned(),
            boss,
            boss_token,
            leaver,
            leaver_token,
        }
    }

    /// Through `admin`: renames the first to `name`, demotes the admin, deactivates the third.
    async fn change(&self, admin: &TestApp, name: &str) {
        admin.rename(&self.id, name).await;
        for (id, input) in [
            (&self.boss, json!({ "role": "USER" })),
            (&self.leaver, json!({ "isActive": false })),
        ] {
            let body = admin
                .gql(
                    "mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { id } }",
                    json!({ "id": id, "i": input }),
                )
                .await;
            assert!(body["errors"].is_null(), "{body}");
        }
    }

    /// `reader` sees every change: the name by id, email and list; the demotion; the
    /// deactivation.
    async fn assert_changed(&self, reader: &TestApp, name: &str) {
        assert_eq!(reader.name_of(&self.id).await, name);
        assert_eq!(by_email(reader, &self.email).await, name);
        assert_eq!(listed_name(reader, &self.email).await, name);
        let me = reader
            .gql_as(Some(&self.boss_token), "{ me { role } }", json!({}))
            .await;
        assert_eq!(me["data"]["me"]["role"], "USER", "demotion not seen: {me}");
        let create = reader
            .gql_as(
                Some(&self.boss_token),
                "mutation { createUser(input: { email: \"x@example.com\", fullName: \"X\", password: \"password-123\", role: ADMIN }) { id } }",
                json!({}),
            )
            .await;
        assert_eq!(
            code(&create),
            "FORBIDDEN",
            "a demoted admin acted: {create}"
        );
        let me = reader
            .gql_as(Some(&self.leaver_token), "{ me { id } }", json!({}))
            .await;
        assert_eq!(
            code(&me),
            "UNAUTHENTICATED",
            "a deactivated user got in: {me}"
        );
    }
}

/// Case 3: Redis paused while one instance writes; once it is back, the other instance never
/// serves what the write replaced, nor lets a demoted admin act or a deactivated user in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_outage_with_two_instances_serves_nothing_stale_after() {
    let redis = Redis::start(Topology::Single).await;
    let (a, b) = redis.pair(Db::Sqlite).await.unwrap();
    let victims = Victims::warm(&a, &b, "outage@example.com").await;
    redis.pause();
    victims.change(&a, "During the outage").await;
    redis.resume();
    victims.assert_changed(&b, "During the outage").await;
    a.await_cache_status("available").await;
    b.await_cache_status("available").await;
    victims.assert_changed(&b, "During the outage").await;
}

/// Case 4: one instance cut off Redis (its connections stall) while the other still reaches
/// it: the cut-off instance's acknowledged writes are never hidden by the other's cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_writer_is_never_hidden_by_another_instance() {
    let redis = Redis::start(Topology::Single).await;
    let proxy = Proxy::start(redis.nodes[0].port).await;
    let spec = Spawn::new(Backend::Redis, Db::Sqlite).env("REDIS_URL", &redis.url());
    let b = TestApp::start_with(spec, TestDb::create(Db::Sqlite).await.unwrap(), None).await;
    let a = b.sibling_via(&proxy.url()).await;
    let victims = Victims::warm(&b, &b, "partition@example.com").await;
    proxy.stall();
    victims.change(&a, "Behind the partition").await;
    victims.assert_changed(&b, "Behind the partition").await;
    b.await_cache_status("available").await;
    victims.assert_changed(&b, "Behind the partition").await;
    proxy.heal();
    a.await_cache_status("available").await;
}
