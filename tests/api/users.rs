//! Every user query and mutation, with each cache backend and database, and the error codes.
use serde_json::json;

use crate::{
    each_backend,
    helpers::{TestApp, code},
};

each_backend!(
    crud_round_trip,
    emails_are_lower_cased_and_matched_case_insensitively,
    email_change_moves_the_lookup,
    warm_list_sees_creates_updates_and_deletes_at_once,
    absent_id_then_created_is_visible,
    user_stats_follow_every_write,
    validation_errors_name_the_field,
    conflicts_and_not_found,
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

async fn emails_are_lower_cased_and_matched_case_insensitively(app: TestApp) {
    let id = app.create_user("Mixed.Case@Example.COM", "USER").await;
    assert_eq!(app.user(&id).await["email"], "mixed.case@example.com");
    for probe in [
        "mixed.case@example.com",
        "MIXED.CASE@EXAMPLE.COM",
        " Mixed.Case@example.com ",
    ] {
        let body = app
            .gql(
                "query($e: String!) { userByEmail(email: $e) { id } }",
                json!({ "e": probe }),
            )
            .await;
        assert_eq!(
            body["data"]["userByEmail"]["id"],
            id.as_str(),
            "{probe}: {body}"
        );
    }
    let none = app
        .gql(
            "{ userByEmail(email: \"nobody@example.com\") { id } }",
            json!({}),
        )
        .await;
    assert!(none["data"]["userByEmail"].is_null(), "{none}");
    // login is case-insensitive too
    app.login("MIXED.case@example.com", crate::helpers::PASSWORD)
        .await;
}

async fn email_change_moves_the_lookup(app: TestApp) {
    let id = app.create_user("old@example.com", "USER").await;
    let by_email = |e: &'static str| {
        let app = &app;
        async move {
            let body = app
                .gql(
                    "query($e: String!) { userByEmail(email: $e) { id email } }",
                    json!({ "e": e }),
                )
                .await;
            body["data"]["userByEmail"].clone()
        }
    };
    // warm every cache entry for the old email
    assert_eq!(by_email("old@example.com").await["id"], id.as_str());
    assert_eq!(by_email("old@example.com").await["id"], id.as_str());
    let body = app
        .gql(
            "mutation($id: ID!) { updateUser(id: $id, input: { email: \"New@Example.com\" }) { email } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        body["data"]["updateUser"]["email"], "new@example.com",
        "{body}"
    );
    assert!(
        by_email("old@example.com").await.is_null(),
        "old email must not find the user"
    );
    assert_eq!(by_email("new@example.com").await["id"], id.as_str());
    // the old email is free again, for someone else
    let other = app.create_user("old@example.com", "USER").await;
    assert_eq!(by_email("old@example.com").await["id"], other.as_str());
}

async fn warm_list_sees_creates_updates_and_deletes_at_once(app: TestApp) {
    let a = app.create_user("a@example.com", "USER").await;
    let warm = app.list_emails(0, 100).await;
    assert_eq!(warm, app.list_emails(0, 100).await, "warm read is stable");
    assert!(warm.contains(&"a@example.com".to_owned()));

    app.create_user("b@example.com", "USER").await;
    let after_create = app.list_emails(0, 100).await;
    assert!(
        after_create.contains(&"b@example.com".to_owned()),
        "{after_create:?}"
    );

    app.gql(
        "mutation($id: ID!) { updateUser(id: $id, input: { email: \"a2@example.com\" }) { id } }",
        json!({ "id": a }),
    )
    .await;
    let after_update = app.list_emails(0, 100).await;
    assert!(after_update.contains(&"a2@example.com".to_owned()));
    assert!(!after_update.contains(&"a@example.com".to_owned()));

    app.gql(
        "mutation($id: ID!) { deleteUser(id: $id) }",
        json!({ "id": a }),
    )
    .await;
    let after_delete = app.list_emails(0, 100).await;
    assert!(
        !after_delete.contains(&"a2@example.com".to_owned()),
        "{after_delete:?}"
    );
}

async fn absent_id_then_created_is_visible(app: TestApp) {
    // Ids are assigned in order: the next one is unknown, and looked up (and maybe cached
    // as absent) before it exists.
    let probe = app.create_user("probe@example.com", "USER").await;
    let next = (probe.parse::<i64>().unwrap() + 1).to_string();
    assert!(app.user(&next).await.is_null());
    assert!(app.user(&next).await.is_null());
    let created = app.create_user("next@example.com", "USER").await;
    assert_eq!(created, next, "ids are sequential in a fresh database");
    assert_eq!(app.user(&next).await["email"], "next@example.com");
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

async fn validation_errors_name_the_field(app: TestApp) {
    let create = |email: &str, name: &str, pw: &str| json!({ "i": { "email": email, "fullName": name, "password": pw } });
    let q = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }";
    for (vars, field) in [
        (create("not-an-email", "X", "password-123"), "email"),
        (create("x@example.com", "   ", "password-123"), "fullName"),
        (
            create("x@example.com", &"n".repeat(201), "password-123"),
            "fullName",
        ),
        (create("x@example.com", "X", "short"), "password"),
    ] {
        let body = app.gql(q, vars).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    for (query, field) in [
        ("{ users(limit: 0) { id } }", "limit"),
        ("{ users(limit: 1001) { id } }", "limit"),
        ("{ users(skip: -1) { id } }", "skip"),
        ("{ user(id: \"abc\") { id } }", "id"),
        ("{ user(id: \"-4\") { id } }", "id"),
        ("{ userByEmail(email: \"nope\") { id } }", "email"),
    ] {
        let body = app.gql(query, json!({})).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{query}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    // an argument of the wrong type is refused before execution, as bad input too
    let body = app.gql("{ users(limit: \"ten\") { id } }", json!({})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let body = app
        .gql(
            "mutation { updateUser(id: \"1\", input: { password: \"short\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
}

async fn conflicts_and_not_found(app: TestApp) {
    app.create_user("taken@example.com", "USER").await;
    let body = app
        .gql(
            "mutation { createUser(input: { email: \"TAKEN@example.com\", fullName: \"T\", password: \"password-123\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    let other = app.create_user("free@example.com", "USER").await;
    let body = app
        .gql(
            "mutation($id: ID!) { updateUser(id: $id, input: { email: \"taken@example.com\" }) { id } }",
            json!({ "id": other }),
        )
        .await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    let body = app
        .gql(
            "mutation { updateUser(id: \"987654\", input: { fullName: \"X\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
}

async fn pagination_is_ordered_by_id(app: TestApp) {
    for i in 0..5 {
        app.create_user(&format!("p{i}@example.com"), "USER").await;
    }
    let all = app.list_emails(0, 100).await;
    assert_eq!(all.len(), 6);
    assert_eq!(all[0], "admin@example.com");
    assert_eq!(app.list_emails(2, 2).await, all[2..4].to_vec());
    assert_eq!(app.list_emails(5, 10).await, all[5..].to_vec());
    assert!(app.list_emails(50, 10).await.is_empty());
    let default = app.gql("{ users { id } }", json!({})).await;
    assert_eq!(default["data"]["users"].as_array().unwrap().len(), 6);
}
