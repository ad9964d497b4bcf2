//! How model structs become writes: INSERT (leaving an unset auto-increment key to the
//! database and returning every column), UPDATE and DELETE by primary key, and writing the
//! returned row back into the struct.

use super::Model;
use chakra_dsl::{
    check_value, pk_filter, pk_filter_values, ColumnRef, Delete, Error, Insert, ModelMeta, Result,
    Statement, Update, Value,
};

/// Every column of the model, for `RETURNING`.
pub fn returning_all(meta: &ModelMeta) -> Vec<ColumnRef> {
    meta.fields
        .iter()
        .map(|f| f.column_ref(meta.table.clone()))
        .collect()
}

/// The primary key column alone, for the `RETURNING` of a bulk insert that only needs the
/// generated keys.
pub fn returning_key(meta: &ModelMeta) -> Vec<ColumnRef> {
    meta.fields
        .iter()
        .filter(|f| f.primary_key)
        .map(|f| f.column_ref(meta.table.clone()))
        .collect()
}

/// True when `ins` leaves the model's auto-increment key to the database.
pub fn omits_key(meta: &ModelMeta, ins: &Insert) -> bool {
    auto_pk_index(meta).is_some_and(|i| !ins.columns.contains(&meta.fields[i].column))
}

/// Index of the auto-increment primary key field, if the model has one.
fn auto_pk_index(meta: &ModelMeta) -> Option<usize> {
    meta.fields
        .iter()
        .position(|f| f.primary_key && f.auto_increment)
}

/// An INSERT of `rows` (each holding every field's value in declaration order), leaving the
/// auto-increment key out when `omit_key` is set. Values are checked against the fields.
pub fn insert_statement(meta: &ModelMeta, omit_key: bool, rows: Vec<Vec<Value>>) -> Result<Insert> {
    let skip = if omit_key { auto_pk_index(meta) } else { None };
    let columns: Vec<String> = meta
        .fields
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != skip)
        .map(|(_, f)| f.column.clone())
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut vals = Vec::with_capacity(columns.len());
        for (i, (v, f)) in row.into_iter().zip(&meta.fields).enumerate() {
            if Some(i) == skip {
                continue;
            }
            check_value(meta, f, &v)?;
            vals.push(v);
        }
        out.push(vals);
    }
    Ok(Insert {
        table: meta.table.clone(),
        columns,
        rows: out,
        returning: returning_all(meta),
        enum_types: meta.enum_columns(),
    })
}

/// The INSERT of one model.
pub fn insert_one<M: Model>(m: &M) -> Result<Statement> {
    Ok(Statement::Insert(insert_statement(
        M::meta(),
        m.pk_is_unset(),
        vec![m.to_values()],
    )?))
}

/// Groups models for bulk insert: those with an unset key (key left to the database) and
/// those with a key, each with the indices of its models.
pub fn insert_groups<M: Model>(models: &[M]) -> Vec<Result<(Statement, Vec<usize>)>> {
    let mut out = Vec::new();
    for unset in [true, false] {
        let idx: Vec<usize> = (0..models.len())
            .filter(|&i| models[i].pk_is_unset() == unset)
            .collect();
        if idx.is_empty() {
            continue;
        }
        let rows = idx.iter().map(|&i| models[i].to_values()).collect();
        out.push(insert_statement(M::meta(), unset, rows).map(|ins| (Statement::Insert(ins), idx)));
    }
    out
}

/// An UPDATE setting `values` (field index → new value) on the row with the model's key.
pub fn update_fields<M: Model>(key: Vec<Value>, values: Vec<(usize, Value)>) -> Result<Statement> {
    let meta = M::meta();
    let mut sets = Vec::with_capacity(values.len());
    for (i, v) in values {
        let f = &meta.fields[i];
        check_value(meta, f, &v)?;
        sets.push((f.column.clone(), chakra_dsl::Expr::Value(v)));
    }
    Ok(Statement::Update(Update {
        table: meta.table.clone(),
        sets,
        filter: Some(pk_filter_values(meta, key)?),
        returning: Vec::new(),
        enum_types: meta.enum_columns(),
    }))
}

/// An UPDATE of every non-key field of `m`, by primary key. With no such field it sets the
/// key to itself (so the affected-row count still says whether the row exists).
pub fn update_by_pk<M: Model>(m: &M) -> Result<Statement> {
    let meta = M::meta();
    let values: Vec<(usize, Value)> = m
        .to_values()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !meta.fields[*i].primary_key || meta.fields.iter().all(|f| f.primary_key))
        .collect();
    update_fields::<M>(m.pk_values(), values)
}

/// A DELETE of the row with key `key`.
pub fn delete_by_pk<M: Model>(key: Value) -> Result<Statement> {
    let meta = M::meta();
    Ok(Statement::Delete(Delete {
        table: meta.table.clone(),
        filter: Some(pk_filter(meta, key)?),
        returning: Vec::new(),
    }))
}

/// Writes the one row an INSERT … RETURNING gave back into `m`.
pub fn apply_returned<M: Model>(m: &mut M, mut rows: Vec<Vec<Value>>) -> Result<()> {
    match (rows.pop(), rows.is_empty()) {
        (Some(row), true) => m.apply_row(row),
        _ => Err(Error::InvalidQuery(format!(
            "an insert of one {} returned {} rows",
            M::NAME,
            rows.len() + 1
        ))),
    }
}
