//! Which variables the validation cache blanks, on the real schema and on hand-made ones.
use async_graphql::{Json, Object, OutputType, Variables, parser::parse_query, registry::Registry};

use super::{as_validated, blanking_is_sound};
use crate::graphql::roots::{Mutation, Query};

fn registry_of<T: OutputType>() -> Registry {
    let mut registry = Registry::default();
    T::create_type_info(&mut registry);
    registry
}

struct Plain;
#[Object]
impl Plain {
    async fn a(&self, s: String, #[graphql(default = 1)] n: i32) -> i32 {
        (s.len() as i32) + n
    }
}

struct OwnScalar;
#[Object]
impl OwnScalar {
    async fn a(&self, j: Json<serde_json::Value>) -> bool {
        j.is_null()
    }
}

struct CostByString;
#[Object]
impl CostByString {
    #[graphql(complexity = "s.len() + child_complexity")]
    async fn a(&self, s: String) -> i32 {
        s.len() as i32
    }
}

#[test]
fn strings_are_blanked_only_where_the_schema_cannot_read_them() {
    assert!(blanking_is_sound(&registry_of::<Plain>()));
    assert!(blanking_is_sound(&registry_of::<Query>()));
    assert!(blanking_is_sound(&registry_of::<Mutation>()));
    // An input scalar of the application's own may look inside its literal's strings.
    assert!(!blanking_is_sound(&registry_of::<OwnScalar>()));
    // A complexity may read a string argument.
    assert!(!blanking_is_sound(&registry_of::<CostByString>()));
}

fn seen(doc: &str, variables: serde_json::Value) -> serde_json::Value {
    let doc = parse_query(doc).unwrap();
    let variables = Variables::from_json(variables);
    let seen = as_validated(&doc, &variables).unwrap_or(variables);
    serde_json::to_value(seen).unwrap()
}

#[test]
fn only_strings_declared_as_text_everywhere_are_blanked() {
    let doc = "query A($s: String!, $i: ID, $n: Int, $r: Role, $l: [String!]) { a } \
               query B($m: String) { b } query C($m: Int) { c }";
    let vars = serde_json::json!({
        "s": "x", "i": "7", "n": 3, "r": "ADMIN", "l": ["y"], "m": "z", "u": "w"
    });
    assert_eq!(
        seen(doc, vars),
        serde_json::json!({
            "s": "", "i": "", "n": 3, "r": "ADMIN", "l": ["y"], "m": "z", "u": "w"
        })
    );
    // A string variable given a number keeps it: validation must see it.
    assert_eq!(
        seen("query($s: String) { a }", serde_json::json!({ "s": 1 })),
        serde_json::json!({ "s": 1 })
    );
}
