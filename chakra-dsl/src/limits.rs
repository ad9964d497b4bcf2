//! Nesting limits: how deep a JSON document, a `Q`/`F`/expression tree or a statement may be
//! nested. One limit for writing and reading, both backends and both languages, so what is
//! accepted can always be read back (serde_json refuses to decode past 127 levels) and no
//! input can overflow a thread's stack: deeper input is a named error (`BadValue` for a value,
//! `InvalidQuery` for a query) that states the limit.

use serde_json::Value as J;

/// How deep JSON documents (arrays and objects inside each other) and expression trees
/// (conditions, arithmetic, functions, subqueries inside each other) may be nested.
pub const MAX_DEPTH: usize = 100;

/// The nesting depth of a JSON document (`1` for `[]`, `2` for `[[]]`, `0` for a scalar),
/// counted without recursion and stopping once past `MAX_DEPTH`.
pub fn json_depth(j: &J) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&J, usize)> = vec![(j, 0)];
    while let Some((v, d)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &J>> = match v {
            J::Array(items) => Box::new(items.iter()),
            J::Object(o) => Box::new(o.values()),
            _ => continue,
        };
        let d = d + 1;
        deepest = deepest.max(d);
        if deepest > MAX_DEPTH {
            return deepest;
        }
        stack.extend(children.map(|c| (c, d)));
    }
    deepest
}

/// Why a JSON document nested `depth` deep is refused.
pub fn json_too_deep(depth: usize) -> String {
    format!(
        "JSON nested more than {MAX_DEPTH} levels deep (at least {depth}): Chakra stores and \
         reads back JSON up to {MAX_DEPTH} levels of arrays and objects"
    )
}

/// The error for an expression tree nested past [`MAX_DEPTH`].
pub fn query_too_deep(what: &str) -> crate::Error {
    crate::Error::InvalidQuery(format!(
        "{what} nested more than {MAX_DEPTH} levels deep: Chakra compiles conditions and \
         expressions up to {MAX_DEPTH} levels of nesting (combine same-kind conditions in \
         one Q(…) / one list instead of nesting them)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(n: usize) -> J {
        let mut j = J::Null;
        for _ in 0..n {
            j = J::Array(vec![j]);
        }
        j
    }

    #[test]
    fn depth_is_counted_without_recursion() {
        assert_eq!(json_depth(&J::Null), 0);
        assert_eq!(json_depth(&serde_json::json!([])), 1);
        assert_eq!(json_depth(&serde_json::json!({"a": [1, {"b": []}]})), 4);
        assert_eq!(json_depth(&nested(MAX_DEPTH)), MAX_DEPTH);
        assert_eq!(json_depth(&nested(MAX_DEPTH + 1)), MAX_DEPTH + 1);
    }

    #[test]
    fn what_is_accepted_decodes() {
        let text = nested(MAX_DEPTH).to_string();
        assert!(serde_json::from_str::<J>(&text).is_ok());
    }
}
