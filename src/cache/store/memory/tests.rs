//! The in-process store keeps the set-if-newer contract the Redis script keeps, settled entries
//! included.
use super::*;
use crate::cache::protocol::versioned;

const TTL: Duration = Duration::from_secs(60);

async fn put(store: &MemoryBackend, version: u64, settle: bool) -> Put {
    let value = versioned(version, "{}");
    store.put_if_newer("k", version, &value, TTL, settle).await
}

async fn held(store: &MemoryBackend) -> String {
    store.entry("k").await.expect("held").raw().to_owned()
}

#[tokio::test]
async fn settles_only_after_the_settled_version_just_before() {
    let store = MemoryBackend::new(100);
    assert_eq!(
        put(&store, 1, true).await,
        Put::Unsettled,
        "nothing before it"
    );
    assert!(store.mark_settled("k", 1).await);
    assert!(!store.mark_settled("k", 1).await, "settled once");
    assert_eq!(held(&store).await, r#"{"v":1,"s":1,"d":{}}"#);
    assert_eq!(put(&store, 2, true).await, Put::Settled);
    assert_eq!(held(&store).await, r#"{"v":2,"s":1,"d":{}}"#);
    assert_eq!(put(&store, 3, false).await, Put::AfterSettled);
    assert!(!is_settled(&held(&store).await));
    assert_eq!(
        put(&store, 4, true).await,
        Put::Unsettled,
        "3 is not settled"
    );
    assert_eq!(
        put(&store, 4, false).await,
        Put::Held,
        "4 is held, not settled"
    );
    assert_eq!(put(&store, 6, true).await, Put::Unsettled, "5 was skipped");
    assert!(!store.mark_settled("k", 5).await, "another version");
    assert!(store.mark_settled("k", 6).await);
    assert_eq!(put(&store, 5, true).await, Put::Covered);
    assert_eq!(held(&store).await, r#"{"v":6,"s":1,"d":{}}"#);
}
