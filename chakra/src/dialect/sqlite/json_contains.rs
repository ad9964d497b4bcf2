//! JSON containment with PostgreSQL's `jsonb @>` rules, for SQLite (registered on each
//! connection as `chakra_json_contains(a, b)`; see `dialect::sqlite::setup`).
//!
//! `a` contains `b` when: `b` is an object and `a` is an object holding each of `b`'s keys
//! with a value that contains `b`'s value; `b` is an array and `a` is an array in which each
//! element of `b` is contained by some element; `b` is a scalar equal to `a` (numbers by
//! value). At the top level only, an array also contains a scalar it holds
//! (`'["a", "b"]' @> '"a"'`).

use serde_json::Value as J;

/// Whether the JSON document `a` contains `b` (PostgreSQL's `a @> b`).
pub fn contains(a: &J, b: &J) -> bool {
    if let (J::Array(items), scalar) = (a, b) {
        if !matches!(scalar, J::Array(_) | J::Object(_)) {
            return items.iter().any(|x| scalar_eq(x, scalar));
        }
    }
    nested(a, b)
}

fn nested(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Object(ao), J::Object(bo)) => bo
            .iter()
            .all(|(k, bv)| ao.get(k).is_some_and(|av| nested(av, bv))),
        (J::Array(aa), J::Array(ba)) => ba.iter().all(|bv| aa.iter().any(|av| nested(av, bv))),
        (J::Object(_) | J::Array(_), _) | (_, J::Object(_) | J::Array(_)) => false,
        (x, y) => scalar_eq(x, y),
    }
}

fn scalar_eq(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(x), J::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(p), Some(q)) => p == q,
            _ => x == y,
        },
        _ => a == b,
    }
}

/// The SQL function: NULL when either side is NULL or not JSON text.
pub fn sql_contains(a: Option<String>, b: Option<String>) -> Option<bool> {
    let a: J = serde_json::from_str(&a?).ok()?;
    let b: J = serde_json::from_str(&b?).ok()?;
    Some(contains(&a, &b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn postgres_rules() {
        assert!(contains(
            &json!({"a": 1, "b": {"c": [1, 2]}}),
            &json!({"b": {"c": [2]}})
        ));
        assert!(!contains(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(contains(&json!([1, 2, [3, 4]]), &json!([[3]])));
        assert!(!contains(&json!([1, 2, [3, 4]]), &json!([3])));
        assert!(contains(&json!(["a", "b"]), &json!("a")));
        assert!(!contains(&json!({"x": ["a", "b"]}), &json!({"x": "a"})));
        assert!(contains(&json!({"n": 1.0}), &json!({"n": 1})));
        assert!(contains(&json!({"a": null}), &json!({"a": null})));
        assert!(!contains(&json!({"a": null}), &json!({"a": false})));
        assert!(contains(&json!({}), &json!({})));
        assert!(contains(&json!([1]), &json!([])));
    }
}
