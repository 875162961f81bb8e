//! What a test says to the app: GraphQL over HTTP as the admin or another caller, and the
//! user operations most tests start from.
use serde_json::{Value, json};

use super::{PASSWORD, TestApp};

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a GraphQL request; returns the JSON body.
    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.expect("server answers");
        resp.json().await.expect("JSON body")
    }

    /// POSTs any JSON body; returns the status and the JSON body.
    pub async fn post_json(&self, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self.http.post(self.url("/graphql")).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.expect("server answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("JSON body"))
    }

    /// How many responses the response cache served since start (panics when it is off).
    pub fn responses_served(&self) -> u64 {
        self.state
            .users
            .store()
            .cache()
            .responses()
            .expect("response cache on")
            .served_count()
    }

    /// Creates `{prefix}{i}@example.com` for i in 0..n, in that order, as users; their ids.
    pub async fn create_users(&self, prefix: &str, n: usize) -> Vec<String> {
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            ids.push(
                self.create_user(&format!("{prefix}{i}@example.com"), "USER")
                    .await,
            );
        }
        ids
    }

    /// L1's count of `event` (as `/metrics` labels it) in this instance.
    pub fn l1_event(&self, event: &str) -> u64 {
        let counts = self.state.users.store().cache().l1_counts();
        counts
            .into_iter()
            .flatten()
            .find_map(|(name, n)| (name == event).then_some(n))
            .unwrap_or_else(|| panic!("no L1 event {event}"))
    }

    /// As the admin.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_as(Some(&self.admin_token), query, variables).await
    }

    /// Logs in and returns the token; panics when refused.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = self
            .gql_as(
                None,
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
                json!({ "e": email, "p": password }),
            )
            .await;
        body["data"]["login"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {body}"))
            .to_owned()
    }

    /// Creates a user as the admin; returns its id.
    pub async fn create_user(&self, email: &str, role: &str) -> String {
        let body = self
            .gql(
                "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
                json!({ "i": { "email": email, "fullName": "Test User", "password": PASSWORD, "role": role } }),
            )
            .await;
        body["data"]["createUser"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("createUser failed: {body}"))
            .to_owned()
    }

    /// Creates a user and logs in as it.
    pub async fn user_with_token(&self, email: &str) -> (String, String) {
        let id = self.create_user(email, "USER").await;
        (id, self.login(email, PASSWORD).await)
    }

    /// `user(id)` as the admin: the user's JSON or null.
    pub async fn user(&self, id: &str) -> Value {
        let body = self
            .gql(
                "query($id: ID!) { user(id: $id) { id email fullName isActive role } }",
                json!({ "id": id }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        body["data"]["user"].clone()
    }

    /// The emails of `users(skip, limit)` as the admin.
    pub async fn list_emails(&self, skip: i64, limit: i64) -> Vec<String> {
        let body = self
            .gql(
                "query($s: Int!, $l: Int!) { users(skip: $s, limit: $l) { email } }",
                json!({ "s": skip, "l": limit }),
            )
            .await;
        body["data"]["users"]
            .as_array()
            .unwrap_or_else(|| panic!("users failed: {body}"))
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_owned())
            .collect()
    }

    /// A user's full name as the admin, failing the test on any error.
    pub async fn name_of(&self, id: &str) -> String {
        let user = self.user(id).await;
        user["fullName"]
            .as_str()
            .unwrap_or_else(|| panic!("{user}"))
            .to_owned()
    }

    /// Renames a user as the admin, failing the test on any error.
    pub async fn rename(&self, id: &str, name: &str) {
        let body = self
            .gql(
                "mutation($id: ID!, $n: String!) { updateUser(id: $id, input: { fullName: $n }) { fullName } }",
                json!({ "id": id, "n": name }),
            )
            .await;
        assert_eq!(body["data"]["updateUser"]["fullName"], name, "{body}");
    }

    /// `GET /health`'s body.
    pub async fn health(&self) -> Value {
        self.http
            .get(self.url("/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Sends `query` as the admin in the background; the handle yields the body.
    pub fn spawn_gql(&self, query: String) -> tokio::task::JoinHandle<Value> {
        let (http, url, token) = (
            self.http.clone(),
            self.url("/graphql"),
            self.admin_token.clone(),
        );
        tokio::spawn(async move {
            let resp = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "query": query }));
            resp.send().await.unwrap().json().await.unwrap()
        })
    }
}

/// The `extensions.code` of the first error.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error code in {body}"))
}
