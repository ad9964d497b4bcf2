//! The typed-query cache's bounds: its entry count, the eviction order, the size of a
//! shape (one test: the cache is process-wide).

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

/// A query of `k + 1` terms `n <> ? AND …`.
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

/// A query of the one shape of `meta`: `n <> ?` (each model its own shape).
fn one(meta: &Arc<ModelMeta>, value: i64) -> ModelQuery {
    shape(meta, 0, value)
}

#[test]
fn the_cache_is_bounded_and_drops_the_least_recently_used_shape() {
    clear();
    let metas: Vec<Arc<ModelMeta>> = (0..=CAPACITY).map(|_| meta()).collect();
    let first = compiled(one(&metas[0], 1));
    for m in &metas[1..CAPACITY] {
        compiled(one(m, 1));
    }
    assert_eq!(stats().entries, CAPACITY);
    // Shape 0 used again: now shape 1 is the least recently used.
    let again = compiled(one(&metas[0], 2));
    assert!(Arc::ptr_eq(&first.parts, &again.parts));
    assert_eq!(again.binds, vec![Value::I64(2)]);
    compiled(one(&metas[CAPACITY], 1));
    assert_eq!(stats().entries, CAPACITY, "one in, one out");
    let misses = stats().misses;
    let zero = compiled(one(&metas[0], 3));
    assert!(Arc::ptr_eq(&first.parts, &zero.parts), "shape 0 was kept");
    assert_eq!(stats().misses, misses);
    compiled(one(&metas[1], 3));
    assert_eq!(stats().misses, misses + 1, "shape 1 was dropped");
    assert!(stats().entries <= CAPACITY);
    // Shapes of more terms are other shapes.
    let two = compiled(shape(&metas[0], 1, 3));
    assert!(!Arc::ptr_eq(&first.parts, &two.parts));
    clear();
    assert_eq!(stats().entries, 0);

    // A query past `MAX_NODES` is not served; a long `IN` list is one node.
    let meta = meta();
    let big = shape(&meta, crate::sql::query_shape::MAX_NODES, 1);
    assert!(matches!(
        compile_select(big, Dialect::Sqlite).unwrap(),
        Served::Unserved(_)
    ));
    let long_in = ModelQuery::new(meta.clone()).filter(Expr::In {
        expr: Box::new(ModelQuery::new(meta.clone()).column("n").unwrap()),
        values: (0..100_000).map(Value::I64).collect(),
    });
    assert!(matches!(
        compile_select(long_in, Dialect::Sqlite).unwrap(),
        Served::Compiled(_)
    ));
}
