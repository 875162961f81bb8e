//! What a parsed document would cost to validate and execute, measured before either runs.
//!
//! async-graphql's own checks come too late for a hostile document: its recursion-depth check,
//! its complexity and depth visitors and execution all expand every fragment spread inline, so a
//! 1 KB document whose fragments each spread the next twice makes 2^22 steps of work before any
//! limit is checked. Here each fragment is measured once and its size reused wherever it is
//! spread (memoized), so the expanded size of the whole document is known in time linear in its
//! text, and the document is refused before anything else looks at it.
//!
//! *Invariant:* `nodes` is at least the number of steps inline expansion of the whole document
//! takes (every operation, every field, fragment spread, inline fragment, argument, directive
//! and variable definition, a fragment spread twice counted twice), saturating instead of
//! overflowing. A fragment cycle or an undefined fragment is refused here: expanding the first
//! has no end, and the second is invalid anyway.
use std::collections::HashMap;

use async_graphql::{
    Name, Positioned,
    parser::types::{
        Directive, DocumentOperations, ExecutableDocument, FragmentDefinition, Selection,
        SelectionSet,
    },
};

use async_graphql_value::Value;

use crate::config::{INTROSPECTION_FIELDS, TYPE_INTROSPECTION_FIELDS};

/// The size of a document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Nodes of all operations once fragments are expanded (introspection roots weighted).
    pub nodes: u64,
    /// Aliased fields of all operations once fragments are expanded.
    pub aliases: u64,
    /// Whether any operation or fragment selects `__schema` or `__type`.
    pub introspection: bool,
    /// Nodes and values as written (not expanded): what holding the parsed document costs.
    pub written: u64,
}

/// Why a document cannot be measured.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    /// A fragment spreads itself, directly or through others.
    #[error("fragment `{0}` spreads itself")]
    Cycle(String),
    /// A spread names no fragment of the document.
    #[error("fragment `{0}` is not defined")]
    Undefined(String),
    /// Selections (and fragment spreads) nest deeper than any valid document of this schema.
    #[error("selections are nested more than {0} levels deep")]
    TooDeep(usize),
}

/// Nesting the measurement follows at most: selection sets plus fragment spreads. Far above
/// `MAX_QUERY_DEPTH`'s cap, so only documents that would be refused anyway hit it; it keeps
/// the recursion off the end of the stack.
const MAX_NESTING: usize = 512;

#[derive(Clone, Copy, Default)]
struct Sum {
    nodes: u64,
    aliases: u64,
}

impl Sum {
    fn add(&mut self, other: Sum) {
        self.nodes = self.nodes.saturating_add(other.nodes);
        self.aliases = self.aliases.saturating_add(other.aliases);
    }

    fn node(nodes: u64) -> Self {
        Self { nodes, aliases: 0 }
    }
}

enum Memo {
    InProgress,
    Done(Sum),
}

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

struct Measure<'d> {
    fragments: &'d Fragments,
    memo: HashMap<&'d str, Memo>,
    introspection: bool,
    /// Nodes and values as written, each counted once.
    written: u64,
}

/// Nodes of a value (lists and objects count their items), walked without recursion.
fn value_nodes(value: &Value) -> u64 {
    let mut stack = vec![value];
    let mut n = 0u64;
    while let Some(v) = stack.pop() {
        n = n.saturating_add(1);
        match v {
            Value::List(items) => stack.extend(items.iter()),
            Value::Object(fields) => stack.extend(fields.values()),
            _ => {}
        }
    }
    n
}

fn arguments_nodes(arguments: &[(Positioned<Name>, Positioned<Value>)]) -> u64 {
    arguments
        .iter()
        .map(|(_, v)| value_nodes(&v.node))
        .fold(0, u64::saturating_add)
}

fn directives_nodes(directives: &[Positioned<Directive>]) -> u64 {
    directives
        .iter()
        .map(|d| 1u64.saturating_add(arguments_nodes(&d.node.arguments)))
        .fold(0, u64::saturating_add)
}

impl<'d> Measure<'d> {
    /// The expanded size of `set`; adds what is written to `self.written` (each set is measured
    /// once: fragments are memoized).
    fn set(&mut self, set: &'d SelectionSet, depth: usize) -> Result<Sum, CostError> {
        if depth > MAX_NESTING {
            return Err(CostError::TooDeep(MAX_NESTING));
        }
        let mut sum = Sum::default();
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let weight = match field.name.node.as_str() {
                        "__schema" => INTROSPECTION_FIELDS,
                        "__type" => TYPE_INTROSPECTION_FIELDS,
                        _ => 1,
                    };
                    if weight > 1 {
                        self.introspection = true;
                    }
                    let own = 1u64
                        .saturating_add(arguments_nodes(&field.arguments))
                        .saturating_add(directives_nodes(&field.directives));
                    self.written = self.written.saturating_add(own);
                    sum.add(Sum {
                        nodes: own.saturating_add(weight - 1),
                        aliases: u64::from(field.alias.is_some()),
                    });
                    sum.add(self.set(&field.selection_set.node, depth + 1)?);
                }
                Selection::InlineFragment(inline) => {
                    let own = 1u64.saturating_add(directives_nodes(&inline.node.directives));
                    self.written = self.written.saturating_add(own);
                    sum.add(Sum::node(own));
                    sum.add(self.set(&inline.node.selection_set.node, depth + 1)?);
                }
                Selection::FragmentSpread(spread) => {
                    let own = 1u64.saturating_add(directives_nodes(&spread.node.directives));
                    self.written = self.written.saturating_add(own);
                    sum.add(Sum::node(own));
                    sum.add(self.fragment(spread.node.fragment_name.node.as_str(), depth + 1)?);
                }
            }
        }
        Ok(sum)
    }

    fn fragment(&mut self, name: &'d str, depth: usize) -> Result<Sum, CostError> {
        match self.memo.get(name) {
            Some(Memo::Done(sum)) => return Ok(*sum),
            Some(Memo::InProgress) => return Err(CostError::Cycle(name.to_owned())),
            None => {}
        }
        let Some((key, definition)) = self.fragments.get_key_value(name) else {
            return Err(CostError::Undefined(name.to_owned()));
        };
        let key = key.as_str();
        self.memo.insert(key, Memo::InProgress);
        let mut sum = Sum::node(directives_nodes(&definition.node.directives));
        sum.add(self.set(&definition.node.selection_set.node, depth)?);
        self.memo.insert(key, Memo::Done(sum));
        Ok(sum)
    }
}

/// Measures the whole document: every operation (async-graphql checks them all, whichever one
/// runs) and every fragment.
pub fn measure(doc: &ExecutableDocument) -> Result<Cost, CostError> {
    let mut measure = Measure {
        fragments: &doc.fragments,
        memo: HashMap::new(),
        introspection: false,
        written: 0,
    };
    let mut total = Sum::default();
    let operations: Vec<_> = match &doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values().collect(),
    };
    for op in operations {
        let op = &op.node;
        let mut own = directives_nodes(&op.directives);
        for variable in &op.variable_definitions {
            own = own
                .saturating_add(1)
                .saturating_add(directives_nodes(&variable.node.directives))
                .saturating_add(
                    variable
                        .node
                        .default_value
                        .as_ref()
                        .map_or(0, |v| value_nodes(&v.node.clone().into_value())),
                );
        }
        measure.written = measure.written.saturating_add(own);
        total.add(Sum::node(own));
        total.add(measure.set(&op.selection_set.node, 0)?);
    }
    // Fragments no operation spreads are refused by validation, but are measured too: their
    // cycles must not reach validation's inline expansion.
    for name in doc.fragments.keys() {
        measure.fragment(name.as_str(), 0)?;
    }
    Ok(Cost {
        nodes: total.nodes,
        aliases: total.aliases,
        introspection: measure.introspection,
        written: measure.written,
    })
}

#[cfg(test)]
mod tests {
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
        let c =
            cost("query A($v: Int = 3) { a(x: [1, 2], y: {z: 1}) @skip(if: true) } query B { b }")
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
}
