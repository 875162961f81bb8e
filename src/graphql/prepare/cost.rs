//! What a parsed document would cost to validate and execute, measured before either runs.
//!
//! async-graphql's own limits come too late for a hostile document: its complexity and depth
//! visitors (and execution) expand every fragment spread inline, so a 1 KB document whose
//! fragments each spread the next twice makes 2^22 fields of work before any limit is checked.
//! Here each fragment is measured once and its cost reused wherever it is spread
//! (memoized), so the expanded size is known in time linear in the document, and the document
//! is refused before validation when it is over a limit.
//!
//! *Invariant:* the figures are exactly what inline expansion would count (a fragment spread
//! twice counts twice), saturating instead of overflowing; a fragment cycle is refused here,
//! since expanding it has no end.
use std::collections::HashMap;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};

use crate::config::{INTROSPECTION_FIELDS, TYPE_INTROSPECTION_FIELDS};

/// The size of a document, by its most expensive operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Fields once fragments are expanded (introspection roots weighted).
    pub fields: u64,
    /// Aliased fields once fragments are expanded.
    pub aliases: u64,
    /// Whether any operation or fragment selects `__schema` or `__type`.
    pub introspection: bool,
    /// Selections as written (not expanded): what holding the parsed document costs.
    pub written: u64,
}

/// Why a document cannot be measured.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    /// A fragment spreads itself, directly or through others.
    #[error("fragment `{0}` spreads itself")]
    Cycle(String),
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
    fields: u64,
    aliases: u64,
}

impl Sum {
    fn add(&mut self, other: Sum) {
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
    }
}

enum Memo {
    InProgress,
    Done(Sum),
}

struct Measure<'d> {
    fragments: &'d HashMap<async_graphql::Name, async_graphql::Positioned<FragmentDefinition>>,
    memo: HashMap<&'d str, Memo>,
    introspection: bool,
}

impl<'d> Measure<'d> {
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
                    sum.add(Sum {
                        fields: weight,
                        aliases: u64::from(field.alias.is_some()),
                    });
                    sum.add(self.set(&field.selection_set.node, depth + 1)?);
                }
                Selection::InlineFragment(inline) => {
                    sum.add(self.set(&inline.node.selection_set.node, depth + 1)?);
                }
                Selection::FragmentSpread(spread) => {
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
        // An unknown fragment costs nothing here; validation reports it.
        let Some((key, definition)) = self.fragments.get_key_value(name) else {
            return Ok(Sum::default());
        };
        let key = key.as_str();
        self.memo.insert(key, Memo::InProgress);
        let sum = self.set(&definition.node.selection_set.node, depth)?;
        self.memo.insert(key, Memo::Done(sum));
        Ok(sum)
    }
}

/// Selections as written, fragments not expanded.
fn written(set: &SelectionSet) -> u64 {
    set.items
        .iter()
        .map(|s| {
            1 + match &s.node {
                Selection::Field(f) => written(&f.node.selection_set.node),
                Selection::InlineFragment(i) => written(&i.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            }
        })
        .sum()
}

/// Measures every operation of `doc`; the cost is that of the most expensive one.
pub fn measure(doc: &ExecutableDocument) -> Result<Cost, CostError> {
    let mut measure = Measure {
        fragments: &doc.fragments,
        memo: HashMap::new(),
        introspection: false,
    };
    let mut cost = Cost::default();
    let operations: Vec<_> = match &doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values().collect(),
    };
    for op in &operations {
        let sum = measure.set(&op.node.selection_set.node, 0)?;
        cost.fields = cost.fields.max(sum.fields);
        cost.aliases = cost.aliases.max(sum.aliases);
        cost.written = cost
            .written
            .saturating_add(written(&op.node.selection_set.node));
    }
    // Fragments no operation spreads are refused by validation, but are measured too: their
    // cycles must not reach validation's inline expansion.
    for name in doc.fragments.keys() {
        measure.fragment(name.as_str(), 0)?;
    }
    for fragment in doc.fragments.values() {
        cost.written = cost
            .written
            .saturating_add(written(&fragment.node.selection_set.node));
    }
    cost.introspection = measure.introspection;
    Ok(cost)
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
        assert_eq!((c.fields, c.aliases), (6, 2));
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
        assert_eq!(c.fields, 1 << 40);
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
        assert_eq!(
            c.fields,
            INTROSPECTION_FIELDS + 2 + TYPE_INTROSPECTION_FIELDS + 1
        );
        assert_eq!(c.aliases, 1);
    }

    #[test]
    fn the_costliest_operation_counts() {
        let c = cost("query A { a } query B { a b c }").unwrap();
        assert_eq!(c.fields, 3);
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
