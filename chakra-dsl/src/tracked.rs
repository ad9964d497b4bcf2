//! The one UPDATE both front doors write for a tracked row (a row read in a session and
//! changed in memory): compare-and-set, so a concurrent writer's change is never
//! overwritten. See `docs/concurrency.md`.
//!
//! - Without a version field: `UPDATE t SET a = $new WHERE pk = $key AND a = $read` for each
//!   changed field (`a IS NULL` when NULL was read; JSON, array and
//!   [`Concurrency::Unchecked`] fields are not compared).
//! - With a version field: `SET a = $new, version = $read + 1 WHERE pk = $key AND version =
//!   $read`.
//!
//! Zero rows matched means the row changed (or went away) since it was read: the caller
//! reports [`crate::Error::ConcurrentUpdate`]. No extra round trip.

use crate::error::{Error, Result};
use crate::ir::{Expr, RowLock, Statement, Update};
use crate::meta::{Concurrency, ModelMeta};
use crate::model_query::{check_value, field_expr, pk_filter_values, ModelQuery};

use crate::types::ValueType;
use crate::value::Value;
use std::cmp::Ordering;
use std::sync::Arc;

/// One changed field of a tracked row: its index in the model's fields, the value to
/// write, and the value that was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Field index.
    pub field: usize,
    /// New value.
    pub new: Value,
    /// Value read from the database.
    pub read: Value,
}

/// A tracked row's guarded UPDATE, and the new value of the version field when the model
/// has one (the front door writes it into the object once the UPDATE matched). `key` holds
/// one value per key field, in declared order (several for a composite key). A change to a
/// key field is refused by name: the row is named by its key, and the key stays as read.
pub fn guarded_update(
    meta: &ModelMeta,
    key: Vec<Value>,
    changes: &[Change],
    version_read: Option<Value>,
) -> Result<(Statement, Option<Value>)> {
    let version = meta.version_field();
    let mut sets = Vec::with_capacity(changes.len() + 1);
    let mut filter = pk_filter_values(meta, key)?;
    for c in changes {
        let f = meta.fields.get(c.field).ok_or_else(|| {
            Error::InvalidQuery(format!("{} has no field number {}", meta.name, c.field))
        })?;
        if f.primary_key {
            return Err(Error::InvalidQuery(format!(
                "{}.{} is a primary-key field of {}: a tracked row's key cannot change \
                 (from {} to {}); delete the row and add a new one",
                meta.name,
                f.name,
                meta.key_names(),
                c.read,
                c.new
            )));
        }
        if f.concurrency == Concurrency::Version {
            // The version column is Chakra's to set.
            continue;
        }
        check_value(meta, f, &c.new)?;
        sets.push((f.column.clone(), Expr::Value(c.new.clone())));
        let comparable = !matches!(f.ty.value_type(), ValueType::Json | ValueType::Array(_));
        if version.is_none() && f.concurrency == Concurrency::Compare && comparable {
            let col = field_expr(meta, f);
            filter = filter.and(if c.read.is_null() {
                col.is_null()
            } else {
                col.eq(Expr::Value(c.read.clone()))
            });
        }
    }
    let mut new_version = None;
    if let Some((_, vf)) = version {
        let read = version_read.ok_or_else(|| {
            Error::InvalidQuery(format!(
                "{}.{} is the version field but its value read is unknown",
                meta.name, vf.name
            ))
        })?;
        let next = match &read {
            Value::I32(n) => Value::I32(n.wrapping_add(1)),
            Value::I64(n) => Value::I64(n.wrapping_add(1)),
            Value::Null(ValueType::I32) => Value::I32(1),
            Value::Null(ValueType::I64) => Value::I64(1),
            other => {
                return Err(Error::InvalidQuery(format!(
                    "{}.{} is the version field, so it must be an integer (it holds {other})",
                    meta.name, vf.name
                )))
            }
        };
        let col = field_expr(meta, vf);
        filter = filter.and(if read.is_null() {
            col.is_null()
        } else {
            col.eq(Expr::Value(read))
        });
        sets.push((vf.column.clone(), Expr::Value(next.clone())));
        new_version = Some(next);
    }
    Ok((
        Statement::Update(Update {
            table: meta.table.clone(),
            sets,
            filter: Some(filter),
            returning: Vec::new(),
            enum_types: meta.enum_columns(),
        }),
        new_version,
    ))
}

/// The order in which one table's rows are written at flush: by primary key (integers by
/// value, other keys by their text). Two sessions that write the same rows then lock them in
/// the same order and cannot deadlock each other.
pub fn key_order(a: &Value, b: &Value) -> Ordering {
    fn int(v: &Value) -> Option<i64> {
        match v {
            Value::I32(n) => Some(i64::from(*n)),
            Value::I64(n) => Some(*n),
            _ => None,
        }
    }
    match (int(a), int(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// A key for messages: its one value, or `(a, b)` for a composite key.
pub fn key_text(key: &[Value]) -> String {
    match key {
        [one] => one.to_string(),
        many => {
            let parts: Vec<String> = many.iter().map(ToString::to_string).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// [`key_order`] over whole keys (one value per key field): field by field, the first that
/// differs decides (a composite key sorts by its first field, then its second…).
pub fn keys_order(a: &[Value], b: &[Value]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match key_order(x, y) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    a.len().cmp(&b.len())
}

/// Sorts writes for flushing: tables stay in the order they were first written, rows of
/// one table go in primary-key order ([`keys_order`]), and writes to the same row keep their
/// order.
pub fn flush_order<T>(items: &mut [T], table: impl Fn(&T) -> &str, key: impl Fn(&T) -> &[Value]) {
    let mut tables: Vec<String> = Vec::new();
    for it in items.iter() {
        let t = table(it);
        if !tables.iter().any(|x| x == t) {
            tables.push(t.to_owned());
        }
    }
    items.sort_by(|a, b| {
        let ta = tables.iter().position(|t| t == table(a));
        let tb = tables.iter().position(|t| t == table(b));
        ta.cmp(&tb).then_with(|| keys_order(key(a), key(b)))
    });
}

/// The statements that lock, before a re-run, the rows a failed attempt read (`reads`: each a
/// model and its primary key, one value per key field): one `SELECT … WHERE pk IN (…) ORDER BY
/// pk FOR UPDATE` per table (for a composite key `(k1 = a AND k2 = b) OR …`, ordered by every
/// key field), tables in name order, keys in [`keys_order`], duplicates once. The re-run then holds the
/// contended rows before it reads them, so it cannot lose the same compare-and-set race again
/// (optimistic first, pessimistic for the contended rows only); every locker and every flush
/// takes one table's rows in the same key order, so lockers cannot deadlock each other.
/// Rust's `Session::transaction` runs these statements; Python's session builds the same ones
/// through its query builder (see `docs/concurrency.md`).
pub fn relock_statements(reads: &[(Arc<ModelMeta>, Vec<Value>)]) -> Result<Vec<Statement>> {
    let mut by_table: Vec<(Arc<ModelMeta>, Vec<Vec<Value>>)> = Vec::new();
    for (meta, key) in reads {
        match by_table.iter_mut().find(|(m, _)| m.table == meta.table) {
            Some((_, keys)) => keys.push(key.clone()),
            None => by_table.push((meta.clone(), vec![key.clone()])),
        }
    }
    by_table.sort_by(|a, b| a.0.table.cmp(&b.0.table));
    let mut out = Vec::with_capacity(by_table.len());
    for (meta, mut keys) in by_table {
        keys.sort_by(|a, b| keys_order(a, b));
        keys.dedup_by(|a, b| keys_order(a, b) == Ordering::Equal);
        let fields = meta.primary_key_fields();
        if fields.is_empty() {
            return Err(Error::InvalidQuery(format!(
                "a session's row locks need a primary key, and {} has none",
                meta.name
            )));
        }
        let filter = if fields.len() == 1 {
            let one: Vec<Value> = keys.into_iter().filter_map(|mut k| k.pop()).collect();
            field_expr(&meta, fields[0]).is_in(one)
        } else {
            let each = keys
                .into_iter()
                .map(|k| pk_filter_values(&meta, k))
                .collect::<Result<Vec<Expr>>>()?;
            Expr::Or(each)
        };
        let mut q = ModelQuery::new(meta.clone()).filter(filter);
        for f in &fields {
            q = q.order_by(field_expr(&meta, f), false);
        }
        out.push(Statement::Select(q.lock(Some(RowLock::update())).select()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::FieldMeta;
    use crate::types::FieldType;

    fn meta(version: bool) -> ModelMeta {
        let mut id = FieldMeta::new("id", FieldType::BigInteger);
        id.primary_key = true;
        let bal = FieldMeta::new("balance", FieldType::BigInteger);
        let mut note = FieldMeta::new("note", FieldType::Text);
        note.nullable = true;
        let mut fields = vec![id, bal, note];
        if version {
            let mut v = FieldMeta::new("version", FieldType::Integer);
            v.concurrency = Concurrency::Version;
            fields.push(v);
        }
        ModelMeta {
            name: "Account".into(),
            table: "accounts".into(),
            fields,
            relations: vec![],
            app: None,
            options: Default::default(),
            ordering: Vec::new(),
        }
    }

    #[test]
    fn compares_changed_fields_null_safely() {
        let m = meta(false);
        let (stmt, v) = guarded_update(
            &m,
            vec![Value::I64(1)],
            &[
                Change {
                    field: 1,
                    new: Value::I64(400),
                    read: Value::I64(500),
                },
                Change {
                    field: 2,
                    new: Value::Text("x".into()),
                    read: Value::Null(ValueType::Text),
                },
            ],
            None,
        )
        .unwrap();
        assert!(v.is_none());
        let Statement::Update(u) = stmt else { panic!() };
        let f = format!("{:?}", u.filter.unwrap());
        assert!(f.contains("I64(500)"), "{f}");
        assert!(f.contains("IsNull"), "{f}");
    }

    #[test]
    fn a_version_field_replaces_the_comparison() {
        let m = meta(true);
        let (stmt, v) = guarded_update(
            &m,
            vec![Value::I64(1)],
            &[Change {
                field: 1,
                new: Value::I64(400),
                read: Value::I64(500),
            }],
            Some(Value::I32(7)),
        )
        .unwrap();
        assert_eq!(v, Some(Value::I32(8)));
        let Statement::Update(u) = stmt else { panic!() };
        assert_eq!(u.sets.len(), 2);
        let f = format!("{:?}", u.filter.unwrap());
        assert!(f.contains("I32(7)") && !f.contains("I64(500)"), "{f}");
    }

    #[test]
    fn flush_order_groups_tables_and_sorts_keys() {
        let mut w = vec![
            ("b", vec![Value::I64(2)]),
            ("a", vec![Value::I64(9)]),
            ("b", vec![Value::I64(1)]),
            ("a", vec![Value::I64(3)]),
        ];
        flush_order(&mut w, |x| x.0, |x| &x.1);
        let got: Vec<String> = w.iter().map(|(t, k)| format!("{t}{}", k[0])).collect();
        assert_eq!(got, ["b1", "b2", "a3", "a9"]);
        // A composite key: by its first field, then its second.
        let mut w = vec![
            ("t", vec![Value::I64(2), Value::I64(1)]),
            ("t", vec![Value::I64(1), Value::I64(10)]),
            ("t", vec![Value::I64(1), Value::I64(2)]),
        ];
        flush_order(&mut w, |x| x.0, |x| &x.1);
        let got: Vec<String> = w
            .iter()
            .map(|(_, k)| format!("{}-{}", k[0], k[1]))
            .collect();
        assert_eq!(got, ["1-2", "1-10", "2-1"]);
    }
}
