//! What the backend hands up is small: every fred command is boxed where it is made.
use std::mem::size_of_val;

use super::*;

#[tokio::test]
async fn command_futures_are_boxed_where_they_are_made() {
    // Nothing listens there: the pool connects in the background, and no future here is
    // polled; only their sizes are read.
    let quick = Duration::from_millis(50);
    let backend = RedisBackend::connect("redis://127.0.0.1:1", 1, quick, quick).unwrap();
    let unboxed = size_of_val(&backend.client().get::<Option<String>, _>("k"));
    let ours = [
        ("get_raw", size_of_val(&backend.get_raw("k"))),
        ("mget_raw", size_of_val(&backend.mget_raw(&["k"]))),
        ("pttl", size_of_val(&backend.pttl("k"))),
        ("get", size_of_val(&Store::get(&backend, "k"))),
        ("set", size_of_val(&Store::set(&backend, "k", "v", quick))),
        (
            "set_if_newer",
            size_of_val(&backend.set_if_newer("k", 1, "v", quick)),
        ),
        (
            "generation",
            size_of_val(&backend.generation("g", true, quick)),
        ),
        ("delete", size_of_val(&backend.delete(&["k"]))),
        (
            "take_lease",
            size_of_val(&backend.take_lease("k", "t", quick)),
        ),
        (
            "release_lease",
            size_of_val(&backend.release_lease("k", "t")),
        ),
        ("clear", size_of_val(&backend.clear("k*"))),
        ("count", size_of_val(&backend.count("k*"))),
        ("ping", size_of_val(&backend.ping())),
        ("info", size_of_val(&backend.info())),
    ];
    for (name, size) in ours {
        assert!(
            size * 4 < unboxed,
            "{name}'s future is {size} bytes; fred's own GET is {unboxed}"
        );
    }
}
