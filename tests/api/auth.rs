//! Login, tokens and roles.
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

use crate::{
    each_backend,
    helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Db, JWT_SECRET, PASSWORD, TestApp, code},
};

each_backend!(
    revoked_users_lose_their_tokens_at_once,
    role_changes_apply_at_once
);

const ME: &str = "{ me { id email role } }";

async fn app() -> TestApp {
    TestApp::spawn(Backend::Redis, Db::Sqlite).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_returns_a_bearer_token_with_the_contract_claims() {
    let app = app().await;
    let body = app
        .gql_as(
            None,
            "mutation { login(email: \"admin@example.com\", password: \"admin-password-123\") { accessToken tokenType expiresIn user { email role } } }",
            json!({}),
        )
        .await;
    let payload = &body["data"]["login"];
    assert_eq!(payload["tokenType"], "Bearer");
    assert_eq!(payload["expiresIn"], 3600);
    assert_eq!(
        payload["user"],
        json!({ "email": ADMIN_EMAIL, "role": "ADMIN" })
    );
    let token = payload["accessToken"].as_str().unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(JWT_SECRET.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["sub"], "1");
    assert_eq!(claims["role"], "admin");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    let me = app.gql_as(Some(token), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], ADMIN_EMAIL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_email_and_wrong_password_are_indistinguishable() {
    let app = app().await;
    let q = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }";
    let wrong_pw = app
        .gql_as(None, q, json!({ "e": ADMIN_EMAIL, "p": "wrong-password" }))
        .await;
    let wrong_email = app
        .gql_as(
            None,
            q,
            json!({ "e": "ghost@example.com", "p": ADMIN_PASSWORD }),
        )
        .await;
    assert_eq!(code(&wrong_pw), "UNAUTHENTICATED");
    assert_eq!(
        wrong_pw["errors"][0]["message"],
        wrong_email["errors"][0]["message"]
    );
    assert_eq!(code(&wrong_email), "UNAUTHENTICATED");
}

fn forge(claims: serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_unauthenticated() {
    let app = app().await;
    let now = chrono::Utc::now().timestamp();
    let valid_claims = json!({ "sub": "1", "role": "admin", "iat": now, "exp": now + 600 });
    let payload = app.admin_token.split('.').nth(1).unwrap().to_owned();
    let cases = [
        (
            "bad signature",
            forge(valid_claims.clone(), "some-other-secret-123456"),
        ),
        (
            "expired",
            forge(
                json!({ "sub": "1", "role": "admin", "iat": now - 7200, "exp": now - 3600 }),
                JWT_SECRET,
            ),
        ),
        (
            "alg none",
            format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}."),
        ),
        ("garbage", "not.a.token".to_owned()),
        (
            "unknown user",
            forge(
                json!({ "sub": "4242", "role": "admin", "iat": now, "exp": now + 600 }),
                JWT_SECRET,
            ),
        ),
        (
            "sub not an id",
            forge(
                json!({ "sub": "admin", "role": "admin", "iat": now, "exp": now + 600 }),
                JWT_SECRET,
            ),
        ),
    ];
    for (what, token) in cases {
        let body = app.gql_as(Some(&token), ME, json!({})).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{what}: {body}");
    }
    let body = app.gql_as(None, "{ users { id } }", json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "no token");
    let resp: serde_json::Value = app
        .http
        .post(app.url("/graphql"))
        .header("authorization", "Basic YWRtaW46cHc=")
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(code(&resp), "UNAUTHENTICATED", "malformed header");
    // a forged token with a valid signature is accepted: the key is what matters
    let ok = app
        .gql_as(Some(&forge(valid_claims, JWT_SECRET)), ME, json!({}))
        .await;
    assert_eq!(ok["data"]["me"]["id"], "1", "{ok}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_user_query_needs_a_token() {
    let app = app().await;
    for q in [
        "{ me { id } }",
        "{ user(id: \"1\") { id } }",
        "{ userByEmail(email: \"admin@example.com\") { id } }",
        "{ users { id } }",
        "{ userStats { total } }",
        "{ cacheStats { hits } }",
        "mutation { deleteUser(id: \"1\") }",
        "mutation { updateUser(id: \"1\", input: { fullName: \"x\" }) { id } }",
        "mutation { clearCache { cleared } }",
    ] {
        let body = app.gql_as(None, q, json!({})).await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{q}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_follow_the_contract() {
    let app = app().await;
    let (me_id, token) = app.user_with_token("user@example.com").await;
    let other = app.create_user("other@example.com", "USER").await;
    let as_user = |q: String| {
        let app = &app;
        let token = token.clone();
        async move { app.gql_as(Some(&token), &q, json!({})).await }
    };
    // reading is allowed
    let body =
        as_user("{ users { id } user(id: \"1\") { email } userStats { total } }".into()).await;
    assert!(body["errors"].is_null(), "{body}");
    // admin-only operations
    for q in [
        "{ cacheStats { hits } }".to_owned(),
        "mutation { clearCache { cleared } }".to_owned(),
        "mutation { createUser(input: { email: \"z@example.com\", fullName: \"Z\", password: \"password-123\" }) { id } }".to_owned(),
        format!("mutation {{ deleteUser(id: \"{other}\") }}"),
        format!("mutation {{ updateUser(id: \"{other}\", input: {{ fullName: \"X\" }}) {{ id }} }}"),
        format!("mutation {{ updateUser(id: \"{me_id}\", input: {{ role: ADMIN }}) {{ id }} }}"),
        format!("mutation {{ updateUser(id: \"{me_id}\", input: {{ isActive: true }}) {{ id }} }}"),
    ] {
        let body = as_user(q.clone()).await;
        assert_eq!(code(&body), "FORBIDDEN", "{q}: {body}");
    }
    // a user changes its own email, name and password
    let body = as_user(format!(
        "mutation {{ updateUser(id: \"{me_id}\", input: {{ fullName: \"Me\", email: \"me2@example.com\", password: \"new-password-1\" }}) {{ fullName email }} }}"
    ))
    .await;
    assert_eq!(
        body["data"]["updateUser"],
        json!({ "fullName": "Me", "email": "me2@example.com" }),
        "{body}"
    );
    app.login("me2@example.com", "new-password-1").await;
    let old = app
        .gql_as(
            None,
            "mutation { login(email: \"me2@example.com\", password: \"password-123\") { accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&old), "UNAUTHENTICATED");
    let _ = PASSWORD;
}

async fn revoked_users_lose_their_tokens_at_once(app: TestApp) {
    let (id, token) = app.user_with_token("revoke@example.com").await;
    let (id2, token2) = app.user_with_token("delete@example.com").await;
    // warm the current-user entries
    for t in [&token, &token2] {
        assert!(app.gql_as(Some(t), ME, json!({})).await["errors"].is_null());
    }
    app.gql(
        "mutation($id: ID!) { updateUser(id: $id, input: { isActive: false }) { id } }",
        json!({ "id": id }),
    )
    .await;
    let body = app.gql_as(Some(&token), ME, json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "deactivated: {body}");
    let login = app
        .gql_as(
            None,
            "mutation { login(email: \"revoke@example.com\", password: \"password-123\") { accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(
        code(&login),
        "UNAUTHENTICATED",
        "deactivated users cannot log in"
    );

    app.gql(
        "mutation($id: ID!) { deleteUser(id: $id) }",
        json!({ "id": id2 }),
    )
    .await;
    let body = app.gql_as(Some(&token2), ME, json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "deleted: {body}");
}

async fn role_changes_apply_at_once(app: TestApp) {
    let (id, token) = app.user_with_token("promote@example.com").await;
    let stats = "{ cacheStats { backend } }";
    assert_eq!(
        code(&app.gql_as(Some(&token), stats, json!({})).await),
        "FORBIDDEN"
    );
    app.gql(
        "mutation($id: ID!) { updateUser(id: $id, input: { role: ADMIN }) { id } }",
        json!({ "id": id }),
    )
    .await;
    let body = app.gql_as(Some(&token), stats, json!({})).await;
    assert!(body["errors"].is_null(), "promoted: {body}");
    app.gql(
        "mutation($id: ID!) { updateUser(id: $id, input: { role: USER }) { id } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        code(&app.gql_as(Some(&token), stats, json!({})).await),
        "FORBIDDEN"
    );
}
