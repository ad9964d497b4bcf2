//! Compiling whole statements: SELECT (and its COUNT / EXISTS forms), INSERT, UPDATE, DELETE.

use super::expression::expr;
use super::writer::SqlWriter;
use chakra_dsl::{
    ArrayValue, BulkUpdate, ColumnRef, Delete, Error, Expr, Insert, JoinKind, OnConflict, Result,
    Select, Source, Statement, Update, Value, ValueType,
};

/// Compiles any statement.
pub fn statement(w: &mut SqlWriter, stmt: &Statement) -> Result<()> {
    match stmt {
        Statement::Select(s) => select(w, s),
        Statement::Count(s) => count(w, s),
        Statement::Exists(s) => exists(w, s),
        Statement::Insert(i) => insert(w, i, None),
        Statement::Upsert(u) => insert(w, &u.insert, Some(&u.on_conflict)),
        Statement::Update(u) => update(w, u),
        Statement::BulkUpdate(b) => bulk_update(w, b),
        Statement::Delete(d) => delete(w, d),
    }
}

fn source(w: &mut SqlWriter, s: &Source) -> Result<()> {
    match s {
        Source::Table { name, alias } => {
            w.ident(name)?;
            if let Some(a) = alias {
                w.sql(" AS ");
                w.ident(a)?;
            }
        }
        Source::Subquery { query, alias } => {
            w.sql("(");
            select(w, query)?;
            w.sql(") AS ");
            w.ident(alias)?;
        }
    }
    Ok(())
}

/// FROM, joins and WHERE of a select.
fn from_where(w: &mut SqlWriter, s: &Select) -> Result<()> {
    w.sql(" FROM ");
    source(w, &s.from)?;
    for j in &s.joins {
        w.sql(match j.kind {
            JoinKind::Inner => " INNER JOIN ",
            JoinKind::Left => " LEFT OUTER JOIN ",
        });
        source(w, &j.source)?;
        w.sql(" ON ");
        expr(w, &j.on)?;
    }
    if let Some(f) = &s.filter {
        w.sql(" WHERE ");
        expr(w, f)?;
    }
    Ok(())
}

pub(super) fn order_limit(w: &mut SqlWriter, s: &Select) -> Result<()> {
    for (i, o) in s.order_by.iter().enumerate() {
        w.sql(if i == 0 { " ORDER BY " } else { ", " });
        // Every backend puts NULLs in the same place (as PostgreSQL does by default:
        // NULLs are larger than any value).
        w.dialect.sql().order_term(w, &o.expr, o.desc)?;
    }
    limit_offset(w, s.limit, s.offset)
}

/// `ORDER BY` output column positions (a compound select's), then the slice.
pub(super) fn order_limit_terms(
    w: &mut SqlWriter,
    positions: &[(usize, bool)],
    limit: Option<u64>,
    offset: Option<u64>,
) -> Result<()> {
    for (i, (pos, desc)) in positions.iter().enumerate() {
        w.sql(if i == 0 { " ORDER BY " } else { ", " });
        w.dialect.sql().order_position(w, *pos, *desc)?;
    }
    limit_offset(w, limit, offset)
}

fn limit_offset(w: &mut SqlWriter, limit: Option<u64>, offset: Option<u64>) -> Result<()> {
    match (limit, offset) {
        (Some(l), off) => {
            let n = to_i64(l)?;
            w.dialect.sql().limit(w, n);
            if let Some(o) = off {
                w.sql(" OFFSET ");
                w.bind(Value::I64(to_i64(o)?));
            }
        }
        (None, Some(o)) => {
            w.sql(w.dialect.sql().offset_without_limit());
            w.sql(" OFFSET ");
            w.bind(Value::I64(to_i64(o)?));
        }
        (None, None) => {}
    }
    Ok(())
}

fn to_i64(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| Error::InvalidQuery(format!("limit/offset {n} is too large")))
}

/// Compiles a SELECT: a compound one when it has further members.
pub fn select(w: &mut SqlWriter, s: &Select) -> Result<()> {
    if s.compound.is_empty() {
        simple_select(w, s)
    } else {
        super::compound::compound(w, s)
    }
}

/// The output columns, `FROM`/`WHERE`, `GROUP BY`/`HAVING` of a select: a compound
/// member's part.
pub(super) fn select_core(w: &mut SqlWriter, s: &Select) -> Result<()> {
    if s.columns.is_empty() && !w.is_binds_only() {
        return Err(Error::InvalidQuery(
            "a select needs at least one column".into(),
        ));
    }
    if s.distinct_on.is_empty() {
        w.sql(if s.distinct {
            "SELECT DISTINCT "
        } else {
            "SELECT "
        });
    } else {
        distinct_on(w, s)?;
    }
    for (i, c) in s.columns.iter().enumerate() {
        if i > 0 {
            w.sql(", ");
        }
        expr(w, &c.expr)?;
        if let Some(a) = &c.alias {
            w.sql(" AS ");
            w.ident(a)?;
        }
    }
    from_where(w, s)?;
    group_having(w, s)
}

fn simple_select(w: &mut SqlWriter, s: &Select) -> Result<()> {
    select_core(w, s)?;
    order_limit(w, s)?;
    row_lock(w, s)
}

/// The columns named by a `DISTINCT ON` list, for error messages.
fn distinct_names(s: &Select) -> String {
    s.distinct_on
        .iter()
        .map(|e| match e {
            chakra_dsl::Expr::Column(c) => format!("{:?}", c.column),
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `SELECT DISTINCT ON (…) `: PostgreSQL only, and an ordering must start with the
/// expressions (in any order among themselves), as PostgreSQL requires; both checked here,
/// before any SQL runs.
fn distinct_on(w: &mut SqlWriter, s: &Select) -> Result<()> {
    let table = match &s.from {
        Source::Table { name, .. } => name.clone(),
        _ => "a subquery".to_owned(),
    };
    let hooks = w.dialect.sql();
    if !hooks.distinct_on() {
        return Err(Error::InvalidQuery(format!(
            "distinct({}) on {table:?} is DISTINCT ON, which only PostgreSQL has; on {} use distinct() without fields",
            distinct_names(s),
            hooks.title()
        )));
    }
    let n = s.distinct_on.len();
    if !s.order_by.is_empty()
        && (s.order_by.len() < n
            || !s.order_by[..n]
                .iter()
                .all(|o| s.distinct_on.contains(&o.expr)))
    {
        return Err(Error::InvalidQuery(format!(
            "distinct({}) on {table:?}: order_by() must start with the distinct fields (PostgreSQL's DISTINCT ON keeps the first row of each group in that order)",
            distinct_names(s)
        )));
    }
    w.sql("SELECT DISTINCT ON (");
    for (i, e) in s.distinct_on.iter().enumerate() {
        if i > 0 {
            w.sql(", ");
        }
        expr(w, e)?;
    }
    w.sql(") ");
    Ok(())
}

/// `FOR UPDATE [OF …] [NOWAIT | SKIP LOCKED]` on PostgreSQL; nothing on SQLite, whose
/// transactions (`BEGIN IMMEDIATE`) already serialise writers.
fn row_lock(w: &mut SqlWriter, s: &Select) -> Result<()> {
    let Some(lock) = &s.lock else {
        return Ok(());
    };
    if !w.dialect.sql().row_locks() {
        return Ok(());
    }
    if s.distinct || !s.distinct_on.is_empty() {
        return Err(Error::InvalidQuery(
            "select_for_update() cannot be combined with distinct()".into(),
        ));
    }
    w.dialect.sql().row_lock(w, lock)
}

/// `GROUP BY …` and `HAVING …`.
fn group_having(w: &mut SqlWriter, s: &Select) -> Result<()> {
    for (i, g) in s.group_by.iter().enumerate() {
        w.sql(if i == 0 { " GROUP BY " } else { ", " });
        expr(w, g)?;
    }
    if let Some(h) = &s.having {
        w.sql(" HAVING ");
        expr(w, h)?;
    }
    Ok(())
}

fn needs_subquery(s: &Select) -> bool {
    s.limit.is_some()
        || s.offset.is_some()
        || s.distinct
        || !s.distinct_on.is_empty()
        || !s.group_by.is_empty()
        || s.having.is_some()
        || !s.compound.is_empty()
}

fn count(w: &mut SqlWriter, s: &Select) -> Result<()> {
    if needs_subquery(s) {
        w.sql("SELECT COUNT(*) FROM (");
        select(w, s)?;
        w.sql(") AS \"chakra_count\"");
        Ok(())
    } else {
        w.sql("SELECT COUNT(*)");
        from_where(w, s)
    }
}

fn exists(w: &mut SqlWriter, s: &Select) -> Result<()> {
    w.sql("SELECT EXISTS (");
    if needs_subquery(s) {
        select(w, s)?;
    } else {
        w.sql("SELECT 1");
        from_where(w, s)?;
    }
    w.sql(")");
    Ok(())
}

fn returning(w: &mut SqlWriter, cols: &[ColumnRef]) -> Result<()> {
    for (i, c) in cols.iter().enumerate() {
        w.sql(if i == 0 { " RETURNING " } else { ", " });
        w.ident(&c.column)?;
        // An enum column comes back as its text on PostgreSQL (as `column` in queries).
        if c.enum_type.is_some() {
            w.sql(w.dialect.sql().enum_as_text());
        }
    }
    Ok(())
}

/// What an insert does with a conflicting row
/// ([`SqlHooks::on_conflict`](crate::dialect::SqlHooks::on_conflict)).
fn on_conflict(w: &mut SqlWriter, c: Option<&OnConflict>) -> Result<()> {
    match c {
        Some(c) => w.dialect.sql().on_conflict(w, c),
        None => Ok(()),
    }
}

fn insert(w: &mut SqlWriter, ins: &Insert, conflict: Option<&OnConflict>) -> Result<()> {
    w.sql("INSERT INTO ");
    w.ident(&ins.table)?;
    if ins.columns.is_empty() {
        if ins.rows.len() != 1 {
            return Err(Error::InvalidQuery(format!(
                "an insert into {:?} without columns must have exactly one row, not {}",
                ins.table,
                ins.rows.len()
            )));
        }
        w.sql(w.dialect.sql().default_values());
        if conflict.is_some() {
            return Err(Error::InvalidQuery(format!(
                "an insert into {:?} without columns cannot handle conflicts",
                ins.table
            )));
        }
        return returning(w, &ins.returning);
    }
    if ins.rows.is_empty() {
        return Err(Error::InvalidQuery(format!(
            "an insert into {:?} needs at least one row",
            ins.table
        )));
    }
    w.sql(" (");
    for (i, c) in ins.columns.iter().enumerate() {
        if i > 0 {
            w.sql(", ");
        }
        w.ident(c)?;
    }
    w.sql(")");
    if ins.rows.len() > 1 {
        if w.dialect.sql().insert_column_arrays() {
            if let Some(arrays) = column_arrays(ins)? {
                // One typed array per column: the SQL text is the same for any number of rows,
                // so the prepared statement is reused (and there are only as many binds as
                // columns).
                //
                // Not COPY: diesel-async 0.9 exposes neither COPY (diesel-async issue #158) nor
                // the tokio_postgres::Client inside an AsyncPgConnection (private; it is moved
                // in by `try_from*` and not Clone), so COPY could only run on a second
                // connection, outside the caller's transaction. Measured (chakra/benches/
                // executor.rs, 10,000 rows of five columns, 2026-11-29): tokio-postgres binary
                // COPY 23.7 ms wall / 1.2 ms CPU, this statement 34.7 ms / 4.4 ms, tokio-postgres
                // running the same unnest text 37.6 ms / 2.7 ms; see docs/performance.md.
                w.sql(" SELECT * FROM unnest(");
                for (i, (a, c)) in arrays.into_iter().zip(&ins.columns).enumerate() {
                    if i > 0 {
                        w.sql(", ");
                    }
                    let mut a = Some(a);
                    let mut bind = |w: &mut SqlWriter| {
                        w.bind(Value::Array(a.take().expect("bound once")));
                        Ok(())
                    };
                    match ins.enum_types.get(c) {
                        Some(ty) => w.dialect.sql().enum_value(w, ty, true, &mut bind)?,
                        None => bind(w)?,
                    }
                }
                w.sql(")");
                on_conflict(w, conflict)?;
                return returning(w, &ins.returning);
            }
        }
        // The text depends on the row count: keep it out of the statement cache, which
        // never evicts.
        w.uncacheable();
    }
    w.sql(" VALUES ");
    for (r, row) in ins.rows.iter().enumerate() {
        if row.len() != ins.columns.len() {
            return Err(Error::InvalidQuery(format!(
                "insert into {:?}: row {r} has {} values for {} columns",
                ins.table,
                row.len(),
                ins.columns.len()
            )));
        }
        w.sql(if r == 0 { "(" } else { ", (" });
        for (i, (v, c)) in row.iter().zip(&ins.columns).enumerate() {
            if i > 0 {
                w.sql(", ");
            }
            let mut bind = |w: &mut SqlWriter| {
                w.bind(v.clone());
                Ok(())
            };
            match ins.enum_types.get(c) {
                Some(ty) => w.dialect.sql().enum_value(w, ty, false, &mut bind)?,
                None => bind(w)?,
            }
        }
        w.sql(")");
    }
    on_conflict(w, conflict)?;
    returning(w, &ins.returning)
}

/// The rows of an insert as one typed array per column, when every column holds scalars of
/// one type (arrays of arrays cannot be unnested).
pub(crate) fn column_arrays(ins: &Insert) -> Result<Option<Vec<ArrayValue>>> {
    let mut out = Vec::with_capacity(ins.columns.len());
    for (c, name) in ins.columns.iter().enumerate() {
        let mut ty = None;
        for (r, row) in ins.rows.iter().enumerate() {
            let Some(v) = row.get(c) else {
                return Err(Error::InvalidQuery(format!(
                    "insert into {:?}: row {r} has {} values for {} columns",
                    ins.table,
                    row.len(),
                    ins.columns.len()
                )));
            };
            let t = v.value_type();
            if !v.is_null() || ty.is_none() {
                ty = Some(t);
            }
            if !v.is_null() {
                break;
            }
        }
        let Some(ty) = ty else { return Ok(None) };
        if matches!(ty, ValueType::Array(_)) {
            return Ok(None);
        }
        let Some(mut arr) = ArrayValue::empty(&ty) else {
            return Ok(None);
        };
        for row in &ins.rows {
            if !arr.push(row[c].clone()) {
                // Mixed types in one column: let the database report it on the plain form.
                let _ = name;
                return Ok(None);
            }
        }
        out.push(arr);
    }
    Ok(Some(out))
}

/// `UPDATE t SET a = "_v"."_c0", … FROM (the rows) AS "_v" WHERE t.key = "_v"."_k"` (and
/// `AND t.key2 = "_v"."_k1" …` for a composite key): the
/// rows' source is the dialect's ([`SqlHooks::bulk_update_rows`](crate::dialect::SqlHooks::bulk_update_rows)),
/// one statement text for any number of rows.
fn bulk_update(w: &mut SqlWriter, b: &BulkUpdate) -> Result<()> {
    if b.columns.is_empty() || b.rows.is_empty() || b.keys.is_empty() {
        return Err(Error::InvalidQuery(format!(
            "bulk update of {:?} needs at least one column and one row",
            b.table
        )));
    }
    // Joined, the updated columns are named with their table (the rows are a second one).
    let joins = w.dialect.sql().bulk_update_joins();
    let set = |w: &mut SqlWriter| -> Result<()> {
        w.sql(" SET ");
        for (i, (c, _)) in b.columns.iter().enumerate() {
            if i > 0 {
                w.sql(", ");
            }
            if joins {
                w.ident(&b.table)?;
                w.sql(".");
            }
            w.ident(c)?;
            w.sql(" = ");
            let mut source = |w: &mut SqlWriter| {
                w.sql("\"_v\".");
                w.ident(&format!("_c{i}"))
            };
            match b.enum_types.get(c) {
                Some(ty) => w.dialect.sql().enum_value(w, ty, false, &mut source)?,
                None => source(w)?,
            }
        }
        Ok(())
    };
    w.sql("UPDATE ");
    w.ident(&b.table)?;
    if joins {
        w.sql(" INNER JOIN ");
        w.dialect.sql().bulk_update_rows(w, b)?;
        w.sql(" ON ");
        for (i, (k, ty)) in b.keys.iter().enumerate() {
            if i > 0 {
                w.sql(" AND ");
            }
            let key = Expr::Column(ColumnRef::new(&b.table, k, ty.clone()));
            let alias = BulkUpdate::key_alias(i);
            let row_key = Expr::Column(ColumnRef::new("_v", &alias, ty.clone()));
            expr(w, &key.eq(row_key))?;
        }
        return set(w);
    }
    set(w)?;
    w.sql(" FROM ");
    w.dialect.sql().bulk_update_rows(w, b)?;
    w.sql(" WHERE ");
    for (i, (k, _)) in b.keys.iter().enumerate() {
        if i > 0 {
            w.sql(" AND ");
        }
        w.ident(&b.table)?;
        w.sql(".");
        w.ident(k)?;
        w.sql(" = \"_v\".");
        w.ident(&BulkUpdate::key_alias(i))?;
    }
    Ok(())
}

fn update(w: &mut SqlWriter, u: &Update) -> Result<()> {
    if u.sets.is_empty() {
        return Err(Error::InvalidQuery(format!(
            "an update of {:?} needs at least one column to set",
            u.table
        )));
    }
    w.sql("UPDATE ");
    w.ident(&u.table)?;
    for (i, (col, e)) in u.sets.iter().enumerate() {
        w.sql(if i == 0 { " SET " } else { ", " });
        w.ident(col)?;
        w.sql(" = ");
        match u.enum_types.get(col) {
            Some(ty) => w
                .dialect
                .sql()
                .enum_value(w, ty, false, &mut |w| expr(w, e))?,
            None => expr(w, e)?,
        }
    }
    if let Some(f) = &u.filter {
        w.sql(" WHERE ");
        expr(w, f)?;
    }
    if !u.returning.is_empty() && !w.dialect.sql().update_returning() {
        return Err(crate::dialect::hooks::unsupported(
            w.dialect.sql().title(),
            &format!(
                "an update of {:?} returning rows (UPDATE … RETURNING)",
                u.table
            ),
        ));
    }
    returning(w, &u.returning)
}

fn delete(w: &mut SqlWriter, d: &Delete) -> Result<()> {
    w.sql("DELETE FROM ");
    w.ident(&d.table)?;
    if let Some(f) = &d.filter {
        w.sql(" WHERE ");
        expr(w, f)?;
    }
    returning(w, &d.returning)
}
