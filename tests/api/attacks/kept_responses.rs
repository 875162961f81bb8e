//! The response cache under hostile callers: a refused caller does not evict a kept response,
//! callers of `me` are each served their own answer without evicting each other, and no alias
//! or fragment gets a field that declared no cache policy into a kept response.
use serde_json::json;

use super::app;
use crate::helpers::code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_caller_does_not_evict_a_kept_response() {
    let app = app().await;
    let body = json!({ "query": "{ users(limit: 10) { email } }" });
    let responses = app.state.users.store().cache().responses().unwrap();
    // The first answers fill the entries it is built from; then it is kept and served.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let served = loop {
        let served = responses.served_count();
        app.post_json(Some(&app.admin_token), &body).await;
        if responses.served_count() == served + 1 {
            break served + 1;
        }
        assert!(tokio::time::Instant::now() < deadline, "never served");
    };
    for token in [None, Some("not-a-token")] {
        let (_, refused) = app.post_json(token, &body).await;
        assert_eq!(code(&refused), "UNAUTHENTICATED", "{refused}");
    }
    let (_, again) = app.post_json(Some(&app.admin_token), &body).await;
    assert!(again["errors"].is_null(), "{again}");
    assert_eq!(responses.served_count(), served + 1, "still kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_of_me_do_not_evict_each_other() {
    let app = app().await;
    let responses = app.state.users.store().cache().responses().unwrap();
    let (_, ann) = app.user_with_token("ann@example.com").await;
    let (_, ben) = app.user_with_token("ben@example.com").await;
    let me = json!({ "query": "{ me { email } }" });
    // Each caller's answer is kept once its entries are warm.
    for (token, email) in [(&ann, "ann@example.com"), (&ben, "ben@example.com")] {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let served = responses.served_count();
            let (_, body) = app.post_json(Some(token), &me).await;
            assert_eq!(body["data"]["me"]["email"], email, "{body}");
            if responses.served_count() == served + 1 {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "never served");
        }
    }
    // Alternating callers are each served their own kept answer.
    for (token, email) in [(&ann, "ann@example.com"), (&ben, "ben@example.com")].repeat(2) {
        let served = responses.served_count();
        let (_, body) = app.post_json(Some(token), &me).await;
        assert_eq!(body["data"]["me"]["email"], email, "{body}");
        assert_eq!(
            responses.served_count(),
            served + 1,
            "{email} served from the cache"
        );
    }
}

/// `cacheStats` declares no policy (and is admin-only). Aliased to look like `__typename`, or
/// merged with a declared field under one response key by a root fragment, it must still make
/// the response uncacheable: the admin's counters move on between answers, and a non-admin
/// sending the same text is refused, never served the admin's kept answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_alias_or_fragment_gets_an_undeclared_field_kept() {
    let app = app().await;
    let responses = app.state.users.store().cache().responses().unwrap();
    let (_, user) = app.user_with_token("plain@example.com").await;
    let admin = app.admin_token.clone();
    for query in [
        "{ __s: cacheStats { hits } }",
        "{ __typename: cacheStats { hits } }",
        "{ me { id } ... on Query { me: cacheStats { hits } } }",
    ] {
        let body = json!({ "query": query });
        let mut answers = Vec::new();
        let served = responses.served_count();
        for _ in 0..3 {
            answers.push(app.post_json(Some(&admin), &body).await.1);
        }
        assert_eq!(
            responses.served_count(),
            served,
            "kept: {query} {answers:?}"
        );
        let (_, stranger) = app.post_json(Some(&user), &body).await;
        assert!(
            stranger["data"].is_null() || !stranger["errors"].is_null(),
            "a non-admin got {stranger} for {query}"
        );
        assert_eq!(
            responses.served_count(),
            served,
            "served to a non-admin: {query}"
        );
    }
}
