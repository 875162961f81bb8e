//! Client-chosen pages cannot fill Redis: only aligned pages holding a row get an entry (any
//! other page is cut from the aligned page covering it), so a caller walking every `skip` and
//! `limit` leaves the keys it would have left asking the common pages, and every page it asks
//! is still exact.
use cachegraph::db::NewUser;
use futures::TryStreamExt;
use serde_json::json;

use super::app;
use crate::helpers::{Backend, TestApp, code};

async fn page(app: &TestApp, token: &str, skip: i64, limit: i64) -> Vec<String> {
    let body = app
        .gql_as(
            Some(token),
            "query($s: Int!, $l: Int!) { users(skip: $s, limit: $l) { email } }",
            json!({ "s": skip, "l": limit }),
        )
        .await;
    let users = body["data"]["users"].as_array();
    let users = users.unwrap_or_else(|| panic!("users({skip}, {limit}): {body}"));
    users
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect()
}

async fn page_keys(app: &TestApp) -> Vec<String> {
    keys_under(app, "{users}:list:*").await
}

/// The keys under the app's namespace matching `pattern`, namespace and tag cut off, sorted.
async fn keys_under(app: &TestApp, pattern: &str) -> Vec<String> {
    let client = app.redis.as_ref().unwrap().client().await;
    let pattern = format!("{}{pattern}", app.namespace());
    let mut keys = Vec::new();
    let mut scan = Box::pin(client.scan_buffered(pattern, Some(100), None));
    while let Some(key) = scan.try_next().await.unwrap() {
        let key = key.into_string().unwrap();
        keys.push(key.rsplit("}:").next().unwrap().to_owned());
    }
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_walking_every_page_leaves_only_the_aligned_ones() {
    let app = app().await;
    let (_, token) = app.user_with_token("walker@example.com").await;
    for i in 0..12 {
        app.create_user(&format!("row{i:02}@example.com"), "USER")
            .await;
    }
    let all = page(&app, &token, 0, 1000).await;
    assert_eq!(all.len(), 14, "{all:?}");
    // Unaligned, odd-sized, tiny and far-past-the-end pages, each asked twice.
    let asked = [
        (0, 1000),
        (0, 10),
        (10, 10),
        (20, 10),
        (1_000_000, 10),
        (2_000_000_000, 1000),
        (1, 10),
        (3, 7),
        (0, 1),
        (5, 1),
        (0, 30),
        (13, 1000),
        (14, 1),
    ];
    for _ in 0..2 {
        for (skip, limit) in asked {
            let expected: Vec<String> = all
                .iter()
                .skip(skip as usize)
                .take(limit as usize)
                .cloned()
                .collect();
            assert_eq!(
                page(&app, &token, skip, limit).await,
                expected,
                "({skip}, {limit})"
            );
        }
    }
    // Stored: the aligned pages of a common size that hold a row; (20, 10) is past the end.
    // (3, 7), (0, 1) and (5, 1) were cut from 0:10, (1, 10) from 0:20, (0, 30) from 0:40,
    // (14, 1) from 10:10; (13, 1000) straddles 1000 and was read from the database.
    assert_eq!(
        page_keys(&app).await,
        [
            "list:0:10",
            "list:0:1000",
            "list:0:20",
            "list:0:40",
            "list:10:10"
        ]
    );

    // A create shows at once in a cut page too.
    app.create_user("row12@example.com", "USER").await;
    let odd = page(&app, &token, 3, 7).await;
    assert_eq!(odd, page(&app, &token, 0, 1000).await[3..10].to_vec());
    assert_eq!(page(&app, &token, 14, 1).await, ["row12@example.com"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_no_aligned_page_covers_is_never_kept_and_a_cut_one_is() {
    let app = app().await;
    // Past a multiple of 1000, quickly: through the repository, as the benchmark seeds.
    let rows = (0..1010)
        .map(|i| NewUser {
            email: format!("bulk{i:04}@example.com"),
            full_name: "Bulk".into(),
            password_hash: "x".into(),
            role: "user".into(),
            is_active: true,
        })
        .collect();
    app.state
        .users
        .store()
        .repo()
        .insert_many(rows)
        .await
        .unwrap();
    let responses = app.state.users.store().cache().responses().unwrap();
    let served = responses.served_count();
    let straddling = json!({ "query": "{ users(skip: 995, limit: 10) { email } }" });
    for _ in 0..5 {
        let (_, body) = app.post_json(Some(&app.admin_token), &straddling).await;
        assert_eq!(
            body["data"]["users"].as_array().map(Vec::len),
            Some(10),
            "{body}"
        );
    }
    assert_eq!(
        responses.served_count(),
        served,
        "a page read from the database was kept"
    );
    assert!(page_keys(&app).await.is_empty());
    // The same size cut from an aligned page is kept once its entries are warm.
    let cut = json!({ "query": "{ users(skip: 3, limit: 7) { email } }" });
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, body) = app.post_json(Some(&app.admin_token), &cut).await;
        assert_eq!(
            body["data"]["users"].as_array().map(Vec::len),
            Some(7),
            "{body}"
        );
        if responses.served_count() > served {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "a cut page was never kept"
        );
    }
    assert_eq!(page_keys(&app).await, ["list:0:10"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_is_covered_by_no_page_larger_than_its_resolver_serves() {
    let app = app().await;
    for i in 0..110 {
        let body = app
            .gql_as(
                Some(&app.admin_token),
                "mutation($s: String!) { createProduct(input: { sku: $s, name: \"P\", priceCents: 1 }) { id } }",
                json!({ "s": format!("sku-{i:03}") }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let skus = |skip: i64, limit: i64| {
        let app = &app;
        async move {
            let body = app
                .gql_as(
                    Some(&app.admin_token),
                    "query($s: Int!, $l: Int!) { products(skip: $s, limit: $l) { sku } }",
                    json!({ "s": skip, "l": limit }),
                )
                .await;
            let rows = body["data"]["products"].as_array().cloned();
            let rows = rows.unwrap_or_else(|| panic!("products({skip}, {limit}): {body}"));
            rows.iter()
                .map(|p| p["sku"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let expected = |from: usize, n: usize| -> Vec<String> {
        (from..from + n).map(|i| format!("sku-{i:03}")).collect()
    };
    // Rows 60 to 109: only pages of 125 rows or more hold them all, and `products` serves 100
    // at most, so none is loaded for it: read from the database each time, nothing kept.
    for _ in 0..2 {
        assert_eq!(skus(60, 50).await, expected(60, 50));
    }
    assert!(keys_under(&app, "{products}:page:*").await.is_empty());
    // Rows 90 to 109 are cut from the 40 rows after 80.
    for _ in 0..2 {
        assert_eq!(skus(90, 20).await, expected(90, 20));
    }
    assert_eq!(keys_under(&app, "{products}:page:*").await, ["page:80:40"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_page_costs_the_rows_its_covering_page_loads() {
    let app = TestApp::with_env(Backend::Redis, &[("MAX_QUERY_COMPLEXITY", "1500")]).await;
    let cost = |fields: &[(i64, i64)]| {
        let body: Vec<String> = fields
            .iter()
            .enumerate()
            .map(|(i, (skip, limit))| format!("p{i}: users(skip: {skip}, limit: {limit}) {{ id }}"))
            .collect();
        json!({ "query": format!("{{ {} }}", body.join(" ")) })
    };
    let refused = |body: &serde_json::Value| code(body) == "GRAPHQL_VALIDATION_FAILED";
    // Two stored pages of 100: 200.
    let (_, body) = app
        .post_json(Some(&app.admin_token), &cost(&[(400, 100), (500, 100)]))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    // Rows 399 to 500 are cut from the 1000 of 0:1000: 102 rows served, 1000 loaded, each.
    let (_, body) = app
        .post_json(Some(&app.admin_token), &cost(&[(399, 102)]))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let (_, body) = app
        .post_json(Some(&app.admin_token), &cost(&[(399, 102), (1399, 102)]))
        .await;
    assert!(
        refused(&body),
        "two cut pages of 1000 rows each passed: {body}"
    );
    // A page no page covers is loaded as asked, and priced so.
    let (_, body) = app
        .post_json(Some(&app.admin_token), &cost(&[(995, 10), (1995, 10)]))
        .await;
    assert!(body["errors"].is_null(), "{body}");
}
