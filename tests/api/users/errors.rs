//! The error codes of user queries and mutations: validation errors naming the field,
//! conflicts and not found, with each cache backend and database.
use serde_json::json;

use crate::{
    each_backend,
    helpers::{TestApp, code},
};

each_backend!(validation_errors_name_the_field, conflicts_and_not_found);

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
