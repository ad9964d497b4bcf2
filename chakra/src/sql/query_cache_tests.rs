//! The typed-query cache's bound and eviction order (one test: the cache is process-wide).

use super::*;
use chakra_dsl::{Expr, FieldMeta, FieldType, ModelMeta};

fn meta() -> Arc<ModelMeta> {
    let mut id = FieldMeta::new("id", FieldType::BigInteger);
    id.primary_key = true;
    Arc::new(ModelMeta {
        name: "Bounded".into(),
        table: "bounded".into(),
        fields: vec![id, FieldMeta::new("n", FieldType::BigInteger)],
        relations: Vec::new(),
        app: None,
        options: Default::default(),
        ordering: Vec::new(),
    })
}

/// A query of shape `k`: `n <> ? AND …` with `k + 1` terms.
fn shape(meta: &Arc<ModelMeta>, k: usize, value: i64) -> ModelQuery {
    let mut q = ModelQuery::new(meta.clone());
    for _ in 0..=k {
        let term = q
            .column("n")
            .unwrap()
            .cmp(chakra_dsl::CmpOp::Ne, Expr::Value(Value::I64(value)));
        q = q.filter(term);
    }
    q
}

fn compiled(q: ModelQuery) -> CompiledQuery {
    match compile_select(q, Dialect::Postgres).unwrap() {
        Served::Compiled(c) => c,
        Served::Unserved(q) => panic!("not served: {q:?}"),
    }
}

#[test]
fn at_most_capacity_shapes_are_kept_and_the_least_recently_used_goes_first() {
    clear();
    let meta = meta();
    let first = compiled(shape(&meta, 0, 1));
    for k in 1..CAPACITY {
        compiled(shape(&meta, k, 1));
    }
    assert_eq!(stats().entries, CAPACITY);
    // Shape 0 used again: now shape 1 is the least recently used.
    let again = compiled(shape(&meta, 0, 2));
    assert!(Arc::ptr_eq(&first.parts, &again.parts));
    assert_eq!(again.binds, vec![Value::I64(2)]);
    compiled(shape(&meta, CAPACITY, 1));
    assert_eq!(stats().entries, CAPACITY, "one in, one out");
    let misses = stats().misses;
    let zero = compiled(shape(&meta, 0, 3));
    assert!(Arc::ptr_eq(&first.parts, &zero.parts), "shape 0 was kept");
    assert_eq!(stats().misses, misses);
    compiled(shape(&meta, 1, 3));
    assert_eq!(stats().misses, misses + 1, "shape 1 was dropped");
    assert!(stats().entries <= CAPACITY);
    clear();
    assert_eq!(stats().entries, 0);
}
