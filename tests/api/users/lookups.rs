//! Lookups that a write must move at once: by email (case-insensitive, and after an email
//! change), the warm list, and an id looked up before it exists, with each cache backend and
//! database.
use serde_json::json;

use crate::{each_backend, helpers::TestApp};

each_backend!(
    emails_are_lower_cased_and_matched_case_insensitively,
    email_change_moves_the_lookup,
    warm_list_sees_creates_updates_and_deletes_at_once,
    absent_id_then_created_is_visible,
);

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
