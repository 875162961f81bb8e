//! Unit tests of the parent module.
use super::*;

fn cost(text: &str) -> Result<Cost, CostError> {
    measure(&async_graphql::parser::parse_query(text).unwrap())
}

#[test]
fn fragments_count_once_per_spread() {
    let c = cost("{ a b ...F ...F } fragment F on Q { x y: z }").unwrap();
    // a, b, two spreads, and x, y twice
    assert_eq!((c.nodes, c.aliases), (8, 2));
    assert_eq!(c.written, 6);
    assert!(!c.introspection);
}

#[test]
fn a_fragment_bomb_is_measured_without_expanding_it() {
    let mut text = String::from("query { ...F0 }");
    for i in 0..40 {
        text += &format!(" fragment F{i} on Query {{ ...F{} ...F{} }}", i + 1, i + 1);
    }
    text += " fragment F40 on Query { __typename }";
    let c = cost(&text).unwrap();
    // 2^41 - 1 spreads, 2^40 fields
    assert_eq!(c.nodes, (1 << 40) + (1 << 41) - 1);
}

#[test]
fn undefined_fragments_are_refused() {
    let mut text = String::from("{ ...F0 }");
    for i in 0..30 {
        text += &format!(
            " fragment F{i} on Q {{ ...F{} ...F{} ...F{} }}",
            i + 1,
            i + 1,
            i + 1
        );
    }
    text += " fragment F30 on Q { ...Missing }";
    assert_eq!(
        cost(&text).unwrap_err(),
        CostError::Undefined("Missing".into())
    );
}

#[test]
fn every_operation_arguments_directives_and_variables_count() {
    let c = cost("query A($v: Int = 3) { a(x: [1, 2], y: {z: 1}) @skip(if: true) } query B { b }")
        .unwrap();
    // A: variable 1 + default 1; field 1 + x list 3 + y object 2 + directive 1 + its arg 1;
    // B: field 1
    assert_eq!(c.nodes, 2 + 8 + 1);
    assert_eq!(c.written, c.nodes);
}

#[test]
fn cycles_are_refused() {
    let err = cost("{ ...A } fragment A on Q { ...B } fragment B on Q { ...A }").unwrap_err();
    assert!(matches!(err, CostError::Cycle(_)));
    let unused = cost("{ a } fragment A on Q { ...A }").unwrap_err();
    assert_eq!(unused, CostError::Cycle("A".into()));
}

#[test]
fn introspection_is_weighted_and_flagged() {
    let c = cost("{ __schema { types { name } } t: __type(name: \"Q\") { name } }").unwrap();
    assert!(c.introspection);
    // __type has one argument
    assert_eq!(
        c.nodes,
        INTROSPECTION_FIELDS + 2 + TYPE_INTROSPECTION_FIELDS + 1 + 1
    );
    assert_eq!(c.aliases, 1);
}

#[test]
fn long_spread_chains_stop_at_the_nesting_bound() {
    let mut text = String::from("{ ...F0 }");
    for i in 0..600 {
        text += &format!(" fragment F{i} on Q {{ ...F{} }}", i + 1);
    }
    text += " fragment F600 on Q { a }";
    assert_eq!(cost(&text).unwrap_err(), CostError::TooDeep(MAX_NESTING));
}
