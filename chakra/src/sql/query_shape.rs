//! The shape of a model query: what decides its SQL text, with the data left out. Two
//! queries of one shape compile to the same text and differ only in their binds
//! ([`super::query_cache`]).
//!
//! The shape is the model, the dialect and the IR of the `WHERE`, `ORDER BY`,
//! `DISTINCT ON` and row lock with every value seen only by its type and NULL-ness (a NULL
//! can compile differently), a `LIKE`'s text and a regular expression's pattern not seen
//! at all (the compiler binds them; their kind and case flag are shape), an `IN` list seen
//! as empty or as a list of one type (a mixed list or one holding NULL is not served), and
//! whether `LIMIT`/`OFFSET` are there (their numbers are bound on every dialect).
//!
//! A query of more than [`MAX_NODES`] expression nodes is not served (a kept template stays
//! small; an `IN` list counts as one node, its template keeps one value). Only the
//! expression kinds whose SQL text was checked not to depend on a value's content are
//! served; anything else (subqueries, aggregates, containment, annotations, grouping,
//! joins, combined queries, and arithmetic on MySQL, where a decimal operand's scale is
//! written into the text) gives no shape, and the query is compiled as before.

use super::Dialect;
use chakra_dsl::{Expr, ModelQuery, OrderBy, RowLock, Value};
use std::mem::discriminant;

/// A small multiplicative hash (the shape is compared in full on a hit; the hash only picks
/// the bucket).
#[derive(Default)]
struct Mix(u64, usize);

impl Mix {
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn str(&mut self, s: &str) {
        self.add(s.len() as u64);
        if let Some(b) = s.as_bytes().last() {
            self.add(*b as u64);
        }
    }
    fn tag<T>(&mut self, t: &T) {
        // A discriminant hashes through `Hash`; its bits are what distinguishes variants.
        use std::hash::{Hash, Hasher};
        struct H(u64);
        impl Hasher for H {
            fn finish(&self) -> u64 {
                self.0
            }
            fn write(&mut self, bytes: &[u8]) {
                for b in bytes {
                    self.0 = self.0.rotate_left(8) ^ *b as u64;
                }
            }
            fn write_u64(&mut self, n: u64) {
                self.0 ^= n;
            }
            fn write_isize(&mut self, n: isize) {
                self.0 ^= n as u64;
            }
        }
        let mut h = H(0);
        discriminant(t).hash(&mut h);
        self.add(h.finish());
    }
}

/// The bucket hash of `q`'s shape for `dialect`, or `None` when `q` holds something the
/// cache does not serve (see the module documentation).
pub fn shape_hash(q: &ModelQuery, dialect: Dialect) -> Option<u64> {
    if !q.annotations.is_empty()
        || !q.group_by.is_empty()
        || q.having.is_some()
        || !q.related_filters.is_empty()
        || !q.path_joins.is_empty()
        || !q.compound.is_empty()
    {
        return None;
    }
    let mut h = Mix::default();
    h.add(std::sync::Arc::as_ptr(&q.meta) as usize as u64);
    h.tag(&dialect);
    match &q.filter {
        Some(f) => {
            h.add(1);
            expr_hash(f, dialect, &mut h, 0)?;
        }
        None => h.add(0),
    }
    for o in &q.order_by {
        h.add(2 + o.desc as u64);
        expr_hash(&o.expr, dialect, &mut h, 0)?;
    }
    for e in &q.distinct_on {
        h.add(4);
        expr_hash(e, dialect, &mut h, 0)?;
    }
    h.add(
        q.limit.is_some() as u64
            | (q.offset.is_some() as u64) << 1
            | (q.distinct as u64) << 2
            | (q.lock.is_some() as u64) << 3,
    );
    Some(h.0)
}

/// Deeper than this the shape is not served (the compiler's own limit is lower still).
const MAX_WALK: usize = 200;

/// A query with more expression nodes than this is not served, so a kept template is small
/// (the cache's memory is bounded by its entry count times this).
pub const MAX_NODES: usize = 1_024;

fn value_hash(v: &Value, h: &mut Mix) {
    h.tag(v);
    match v {
        Value::Null(t) => h.tag(t),
        Value::Array(a) => {
            h.tag(a);
            h.add(a.is_empty() as u64);
        }
        _ => {}
    }
}

fn expr_hash(e: &Expr, d: Dialect, h: &mut Mix, depth: usize) -> Option<()> {
    h.1 += 1;
    if depth > MAX_WALK || h.1 > MAX_NODES {
        return None;
    }
    let next = depth + 1;
    h.tag(e);
    match e {
        Expr::Column(c) => {
            h.str(&c.column);
            if let Some(t) = &c.table {
                h.str(t);
            }
        }
        Expr::Value(v) => value_hash(v, h),
        Expr::Bool(b) => h.add(*b as u64),
        Expr::Compare { left, op, right } => {
            h.tag(op);
            expr_hash(left, d, h, next)?;
            expr_hash(right, d, h, next)?;
        }
        Expr::Like {
            expr,
            kind,
            case_insensitive,
            ..
        } => {
            h.tag(kind);
            h.add(*case_insensitive as u64);
            expr_hash(expr, d, h, next)?;
        }
        Expr::Regex {
            expr,
            case_insensitive,
            ..
        } => {
            h.add(*case_insensitive as u64);
            expr_hash(expr, d, h, next)?;
        }
        Expr::In { expr, values } => {
            in_list_kind(values)?;
            match values.first() {
                Some(v) => value_hash(v, h),
                None => h.add(0),
            }
            expr_hash(expr, d, h, next)?;
        }
        Expr::IsNull { expr, negated } => {
            h.add(*negated as u64);
            expr_hash(expr, d, h, next)?;
        }
        Expr::Between { expr, low, high } => {
            expr_hash(expr, d, h, next)?;
            expr_hash(low, d, h, next)?;
            expr_hash(high, d, h, next)?;
        }
        Expr::And(items) | Expr::Or(items) => {
            h.add(items.len() as u64);
            for i in items {
                expr_hash(i, d, h, next)?;
            }
        }
        Expr::Not(inner) | Expr::DateOf(inner) | Expr::ArrayLen(inner) => {
            expr_hash(inner, d, h, next)?
        }
        Expr::Extract { part, expr } => {
            h.tag(part);
            expr_hash(expr, d, h, next)?;
        }
        Expr::Arith { left, op, right } if d != Dialect::Mysql => {
            h.tag(op);
            expr_hash(left, d, h, next)?;
            expr_hash(right, d, h, next)?;
        }
        Expr::Func { func, args, .. } => {
            h.tag(func);
            h.add(args.len() as u64);
            for a in args {
                expr_hash(a, d, h, next)?;
            }
        }
        Expr::Cast { expr, .. } => expr_hash(expr, d, h, next)?,
        Expr::JsonPath {
            expr,
            path,
            extract,
        } => {
            h.tag(extract);
            h.add(path.len() as u64);
            expr_hash(expr, d, h, next)?;
        }
        Expr::ArrayIndex { expr, index, .. } => {
            h.add(*index as u64);
            expr_hash(expr, d, h, next)?;
        }
        Expr::Case { whens, default, .. } => {
            h.add(whens.len() as u64);
            for (c, v) in whens {
                expr_hash(c, d, h, next)?;
                expr_hash(v, d, h, next)?;
            }
            if let Some(x) = default {
                expr_hash(x, d, h, next)?;
            }
        }
        // Not served: subqueries (other tables, the one-database check), aggregates,
        // containment (a key list can be written out), row values, outer references,
        // arithmetic on MySQL (a decimal operand's scale is written into the text).
        Expr::Arith { .. }
        | Expr::InSubquery { .. }
        | Expr::Exists(_)
        | Expr::Subquery(_)
        | Expr::Row(_)
        | Expr::CountStar
        | Expr::Aggregate(_)
        | Expr::Contain { .. }
        | Expr::OuterRef(_) => return None,
    }
    Some(())
}

/// An `IN` list the cache serves: empty, or non-NULL values all of the first one's type.
fn in_list_kind(values: &[Value]) -> Option<()> {
    let Some(first) = values.first() else {
        return Some(());
    };
    if first.is_null() {
        return None;
    }
    values
        .iter()
        .all(|v| same_value_shape(first, v))
        .then_some(())
}

/// True when `a` and `b` bind alike: the same type, both NULL or neither, arrays of the
/// same element type both empty or both not.
pub fn same_value_shape(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null(x), Value::Null(y)) => x == y,
        (Value::Null(_), _) | (_, Value::Null(_)) => false,
        (Value::Array(x), Value::Array(y)) => {
            discriminant(x) == discriminant(y) && x.is_empty() == y.is_empty()
        }
        _ => discriminant(a) == discriminant(b),
    }
}

/// The parts of a model query its shape is read from, kept by a cache entry with the data
/// dropped ([`Template::of`]): compared with a new query by [`Template::matches`].
#[derive(Debug)]
pub struct Template {
    meta: std::sync::Arc<chakra_dsl::ModelMeta>,
    filter: Option<Expr>,
    order_by: Vec<OrderBy>,
    distinct_on: Vec<Expr>,
    has_limit: bool,
    has_offset: bool,
    distinct: bool,
    lock: Option<RowLock>,
}

/// Drops the data of an expression kept as a template (long texts, long `IN` lists).
struct Blank;

impl chakra_dsl::ir::walk::VisitMut for Blank {
    fn expr(&mut self, e: &mut Expr) {
        match e {
            Expr::Value(v) => *v = blank_value(v),
            Expr::Like { text, .. } => text.clear(),
            Expr::Regex { pattern, .. } => pattern.clear(),
            Expr::In { values, .. } => {
                values.truncate(1);
                if let Some(v) = values.first_mut() {
                    *v = blank_value(v);
                }
            }
            _ => {}
        }
    }
}

/// A value with the same shape as `v` ([`same_value_shape`]) holding no data (an array
/// keeps one element, so "not empty" is kept).
pub(crate) fn blank_value(v: &Value) -> Value {
    use chakra_dsl::ArrayValue as A;
    match v {
        Value::Text(_) => Value::Text(String::new()),
        Value::Bytes(_) => Value::Bytes(Vec::new()),
        Value::Json(_) => Value::Json(serde_json::Value::Null),
        Value::Decimal(_) => Value::Decimal(Default::default()),
        Value::Array(a) if !a.is_empty() => {
            // One element of the array's type keeps "not empty".
            let mut a = a.clone();
            match &mut a {
                A::Bool(x) => x.truncate(1),
                A::I32(x) => x.truncate(1),
                A::I64(x) => x.truncate(1),
                A::F64(x) => x.truncate(1),
                A::Decimal(x) => x.truncate(1),
                A::Text(x) => x.truncate(1),
                A::Bytes(x) => x.truncate(1),
                A::DateTime(x) => x.truncate(1),
                A::Date(x) => x.truncate(1),
                A::Uuid(x) => x.truncate(1),
                A::Json(x) => x.truncate(1),
            }
            Value::Array(a)
        }
        other => other.clone(),
    }
}

impl Template {
    /// The template of `q` (a query [`shape_hash`] gave a shape).
    pub fn of(q: &ModelQuery) -> Template {
        let blank = |e: &Expr| {
            let mut e = e.clone();
            chakra_dsl::ir::walk::walk_expr(&mut e, &mut Blank);
            e
        };
        Template {
            meta: q.meta.clone(),
            filter: q.filter.as_ref().map(blank),
            order_by: q
                .order_by
                .iter()
                .map(|o| OrderBy {
                    expr: blank(&o.expr),
                    desc: o.desc,
                })
                .collect(),
            distinct_on: q.distinct_on.iter().map(blank).collect(),
            has_limit: q.limit.is_some(),
            has_offset: q.offset.is_some(),
            distinct: q.distinct,
            lock: q.lock.clone(),
        }
    }

    /// True when `q` (a query [`shape_hash`] gave a shape) has this shape.
    pub fn matches(&self, q: &ModelQuery) -> bool {
        std::sync::Arc::ptr_eq(&self.meta, &q.meta)
            && self.has_limit == q.limit.is_some()
            && self.has_offset == q.offset.is_some()
            && self.distinct == q.distinct
            && self.lock == q.lock
            && self.order_by.len() == q.order_by.len()
            && self.distinct_on.len() == q.distinct_on.len()
            && match (&self.filter, &q.filter) {
                (Some(a), Some(b)) => same_shape(a, b),
                (None, None) => true,
                _ => false,
            }
            && self
                .order_by
                .iter()
                .zip(&q.order_by)
                .all(|(a, b)| a.desc == b.desc && same_shape(&a.expr, &b.expr))
            && self
                .distinct_on
                .iter()
                .zip(&q.distinct_on)
                .all(|(a, b)| same_shape(a, b))
    }
}

fn all_same(a: &[Expr], b: &[Expr]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_shape(x, y))
}

/// True when `a` and `b` compile to the same SQL text: equal but for the data the module
/// documentation lists. Only kinds [`shape_hash`] serves can be equal here.
pub fn same_shape(a: &Expr, b: &Expr) -> bool {
    match (a, b) {
        (Expr::Column(x), Expr::Column(y)) => x == y,
        (Expr::Value(x), Expr::Value(y)) => same_value_shape(x, y),
        (Expr::Bool(x), Expr::Bool(y)) => x == y,
        (
            Expr::Compare {
                left: l1,
                op: o1,
                right: r1,
            },
            Expr::Compare {
                left: l2,
                op: o2,
                right: r2,
            },
        ) => o1 == o2 && same_shape(l1, l2) && same_shape(r1, r2),
        (
            Expr::Like {
                expr: e1,
                kind: k1,
                case_insensitive: c1,
                ..
            },
            Expr::Like {
                expr: e2,
                kind: k2,
                case_insensitive: c2,
                ..
            },
        ) => k1 == k2 && c1 == c2 && same_shape(e1, e2),
        (
            Expr::Regex {
                expr: e1,
                case_insensitive: c1,
                ..
            },
            Expr::Regex {
                expr: e2,
                case_insensitive: c2,
                ..
            },
        ) => c1 == c2 && same_shape(e1, e2),
        (
            Expr::In {
                expr: e1,
                values: v1,
            },
            Expr::In {
                expr: e2,
                values: v2,
            },
        ) => {
            // Both lists passed `in_list_kind` (a template's was cut to its first value).
            match (v1.first(), v2.first()) {
                (None, None) => same_shape(e1, e2),
                (Some(x), Some(y)) => same_value_shape(x, y) && same_shape(e1, e2),
                _ => false,
            }
        }
        (
            Expr::IsNull {
                expr: e1,
                negated: n1,
            },
            Expr::IsNull {
                expr: e2,
                negated: n2,
            },
        ) => n1 == n2 && same_shape(e1, e2),
        (
            Expr::Between {
                expr: e1,
                low: l1,
                high: h1,
            },
            Expr::Between {
                expr: e2,
                low: l2,
                high: h2,
            },
        ) => same_shape(e1, e2) && same_shape(l1, l2) && same_shape(h1, h2),
        (Expr::And(x), Expr::And(y)) | (Expr::Or(x), Expr::Or(y)) => all_same(x, y),
        (Expr::Not(x), Expr::Not(y))
        | (Expr::DateOf(x), Expr::DateOf(y))
        | (Expr::ArrayLen(x), Expr::ArrayLen(y)) => same_shape(x, y),
        (Expr::Extract { part: p1, expr: e1 }, Expr::Extract { part: p2, expr: e2 }) => {
            p1 == p2 && same_shape(e1, e2)
        }
        (
            Expr::Arith {
                left: l1,
                op: o1,
                right: r1,
            },
            Expr::Arith {
                left: l2,
                op: o2,
                right: r2,
            },
        ) => o1 == o2 && same_shape(l1, l2) && same_shape(r1, r2),
        (
            Expr::Func {
                func: f1,
                args: a1,
                ty: t1,
            },
            Expr::Func {
                func: f2,
                args: a2,
                ty: t2,
            },
        ) => f1 == f2 && t1 == t2 && all_same(a1, a2),
        (Expr::Cast { expr: e1, ty: t1 }, Expr::Cast { expr: e2, ty: t2 }) => {
            t1 == t2 && same_shape(e1, e2)
        }
        (
            Expr::JsonPath {
                expr: e1,
                path: p1,
                extract: x1,
            },
            Expr::JsonPath {
                expr: e2,
                path: p2,
                extract: x2,
            },
        ) => x1 == x2 && p1 == p2 && same_shape(e1, e2),
        (
            Expr::ArrayIndex {
                expr: e1,
                index: i1,
                ty: t1,
            },
            Expr::ArrayIndex {
                expr: e2,
                index: i2,
                ty: t2,
            },
        ) => i1 == i2 && t1 == t2 && same_shape(e1, e2),
        (
            Expr::Case {
                whens: w1,
                default: d1,
                ty: t1,
            },
            Expr::Case {
                whens: w2,
                default: d2,
                ty: t2,
            },
        ) => {
            t1 == t2
                && w1.len() == w2.len()
                && w1
                    .iter()
                    .zip(w2)
                    .all(|((c1, v1), (c2, v2))| same_shape(c1, c2) && same_shape(v1, v2))
                && match (d1, d2) {
                    (Some(x), Some(y)) => same_shape(x, y),
                    (None, None) => true,
                    _ => false,
                }
        }
        // Kinds without a shape never match (the walk refused them first).
        _ => false,
    }
}
