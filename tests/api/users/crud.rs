//! The user CRUD round trip, `userStats` after every write, and pagination, with each cache
//! backend and database.
use serde_json::json;

use crate::{each_backend, helpers::TestApp};

each_backend!(
    crud_round_trip,
    user_stats_follow_every_write,
    pagination_is_ordered_by_id,
);

async fn crud_round_trip(app: TestApp) {
    let created = app
        .gql(
            "mutation($i: CreateUserInput!) { createUser(input: $i) { id email fullName isActive role createdAt updatedAt } }",
            json!({ "i": { "email": "ana@example.com", "fullName": "  Ana  ", "password": "password-123" } }),
        )
        .await;
    let user = &created["data"]["createUser"];
    assert_eq!(user["email"], "ana@example.com", "{created}");
    assert_eq!(user["fullName"], "Ana");
    assert_eq!(user["isActive"], true);
    assert_eq!(user["role"], "USER");
    assert!(chrono::DateTime::parse_from_rfc3339(user["createdAt"].as_str().unwrap()).is_ok());
    let id = user["id"].as_str().unwrap().to_owned();

    assert_eq!(app.user(&id).await["email"], "ana@example.com");
    // twice: the second read may come from the cache and must be the same
    assert_eq!(app.user(&id).await["fullName"], "Ana");

    let updated = app
        .gql(
            "mutation($id: ID!) { updateUser(id: $id, input: { fullName: \"Ana B\", isActive: false, role: ADMIN }) { fullName isActive role } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        updated["data"]["updateUser"],
        json!({ "fullName": "Ana B", "isActive": false, "role": "ADMIN" })
    );
    assert_eq!(app.user(&id).await["fullName"], "Ana B");
    assert_eq!(app.user(&id).await["role"], "ADMIN");

    let deleted = app
        .gql(
            "mutation($id: ID!) { deleteUser(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(deleted["data"]["deleteUser"], true);
    assert!(app.user(&id).await.is_null());
    let again = app
        .gql(
            "mutation($id: ID!) { deleteUser(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(again["data"]["deleteUser"], false);
    assert!(app.user("999999").await.is_null());
}

async fn user_stats_follow_every_write(app: TestApp) {
    let stats = || async {
        let body = app
            .gql("{ userStats { total active admins } }", json!({}))
            .await;
        body["data"]["userStats"].clone()
    };
    assert_eq!(
        stats().await,
        json!({ "total": 1, "active": 1, "admins": 1 })
    );
    assert_eq!(
        stats().await,
        json!({ "total": 1, "active": 1, "admins": 1 })
    );
    let id = app.create_user("s@example.com", "USER").await;
    assert_eq!(
        stats().await,
        json!({ "total": 2, "active": 2, "admins": 1 })
    );
    app.gql(
        "mutation($id: ID!) { updateUser(id: $id, input: { isActive: false }) { id } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        stats().await,
        json!({ "total": 2, "active": 1, "admins": 1 })
    );
    app.gql(
        "mutation($id: ID!) { deleteUser(id: $id) }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        stats().await,
        json!({ "total": 1, "active": 1, "admins": 1 })
    );
}

async fn pagination_is_ordered_by_id(app: TestApp) {
    app.create_users("p", 5).await;
    let all = app.list_emails(0, 100).await;
    assert_eq!(all.len(), 6);
    assert_eq!(all[0], "admin@example.com");
    assert_eq!(app.list_emails(2, 2).await, all[2..4].to_vec());
    assert_eq!(app.list_emails(5, 10).await, all[5..].to_vec());
    assert!(app.list_emails(50, 10).await.is_empty());
    let default = app.gql("{ users { id } }", json!({})).await;
    assert_eq!(default["data"]["users"].as_array().unwrap().len(), 6);
}
