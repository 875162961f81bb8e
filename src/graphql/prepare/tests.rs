//! Unit tests of the parent module.
use super::*;

fn key(name: Option<&str>, query: &str) -> RequestKey {
    let mut request = Request::new(query);
    request.operation_name = name.map(str::to_owned);
    RequestKey::of(&request).unwrap()
}

#[test]
fn keys_cannot_be_forged_with_separators() {
    // The attack of a NUL-joined key: the name swallows what the other's text holds.
    let a = key(Some("n\u{0}{}\u{0}query n { a } #"), "{ __typename }");
    let b = key(Some("n"), "query n { a } #\u{0}{}\u{0}{ __typename }");
    assert_ne!(a, b);
    assert_ne!(key(None, "{ a }"), key(Some(""), "{ a }"));
    assert_eq!(key(Some("A"), "{ a }"), key(Some("A"), "{ a }"));
}

#[test]
fn operation_names_are_graphql_names() {
    for ok in ["", "A", "_a1", "getUser"] {
        assert!(is_operation_name(ok), "{ok}");
    }
    for bad in ["1a", "a-b", "n\u{0}", "a b", "é"] {
        assert!(!is_operation_name(bad), "{bad}");
    }
}
