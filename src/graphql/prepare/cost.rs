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
mod tests;
