//! [`ModelQuery`]: queries over one model, built from its [`ModelMeta`] and lowered to the IR.
//! Both front doors (the Rust typed layer and the Python `QuerySet`) build on this, so
//! "select every field of a model", "insert a model row returning its generated columns",
//! "update/delete by primary key" exist once.

use crate::error::{Error, Result};
use crate::ir::{
    AggFunc, Delete, Expr, Insert, OrderBy, RowLock, Select, Source, Statement, Update,
};
use crate::meta::{DefaultValue, FieldMeta, ModelMeta};
use crate::value::Value;
use std::sync::Arc;

/// A query over the rows of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelQuery {
    /// The model.
    pub meta: Arc<ModelMeta>,
    /// `WHERE`, over this model's columns (and later its joined relations).
    pub filter: Option<Expr>,
    /// Named computed values (`annotate(n=Count("id"))`), selected after the fields.
    pub annotations: Vec<(String, Expr)>,
    /// What aggregate annotations group by (`values("country").annotate(…)`); empty means
    /// the primary key (one group per row).
    pub group_by: Vec<Expr>,
    /// `HAVING`: filters over aggregate annotations.
    pub having: Option<Expr>,
    /// `ORDER BY`.
    pub order_by: Vec<OrderBy>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
    /// `DISTINCT`.
    pub distinct: bool,
    /// `distinct("field", …)`: PostgreSQL's `DISTINCT ON` over these expressions.
    pub distinct_on: Vec<Expr>,
    /// `FOR UPDATE` row lock.
    pub lock: Option<RowLock>,
    /// The conditions on relations of earlier `filter()` calls (`filter(books__pages__gt=1)`,
    /// kept as written): an aggregate annotated later over the same relation counts only the
    /// related rows they kept, as in Django.
    pub related_filters: Vec<crate::lookup::QNode>,
    /// LEFT OUTER JOINs of relation paths to many rows read by `order_by`/`values`
    /// (`books__title`, see [`crate::relations::joined`]).
    pub path_joins: Vec<crate::relations::joined::PathJoin>,
    /// True while `order_by` holds the model's default ordering (`ModelMeta::ordering`) and
    /// nothing else: an explicit `order_by` replaces it, and a grouped query drops it
    /// (Django's rule for `Meta.ordering`).
    pub default_order: bool,
    /// Members combined with this query's rows (`union`/`intersection`/`difference`), each
    /// already lowered; this query is then the first member, its ordering and slice apply
    /// to the combined rows.
    pub compound: Vec<crate::ir::CompoundPart>,
}

fn annotation_item(name: &str, e: &Expr) -> crate::ir::SelectItem {
    crate::ir::SelectItem {
        expr: e.clone(),
        alias: Some(name.to_owned()),
        ty: e.value_type().unwrap_or(crate::ValueType::I64),
    }
}

/// True when `e` holds an aggregate anywhere, inside subqueries too (a relation count).
pub(crate) fn aggregates(e: &Expr) -> bool {
    struct Found(bool);
    impl crate::ir::walk::VisitMut for Found {
        fn expr(&mut self, e: &mut Expr) {
            self.0 |= matches!(e, Expr::Aggregate(_) | Expr::CountStar);
        }
    }
    let mut found = Found(false);
    crate::ir::walk::walk_expr(&mut e.clone(), &mut found);
    found.0
}

/// The column expression of a field.
pub fn field_expr(meta: &ModelMeta, f: &FieldMeta) -> Expr {
    Expr::Column(f.column_ref(meta.table.clone()))
}

impl ModelQuery {
    /// Every row of the model.
    pub fn new(meta: Arc<ModelMeta>) -> Self {
        let order_by: Vec<OrderBy> = meta
            .ordering
            .iter()
            .filter_map(|k| {
                let f = meta.field(&k.field)?;
                Some(OrderBy {
                    expr: field_expr(&meta, f),
                    desc: k.desc,
                })
            })
            .collect();
        let default_order = !order_by.is_empty();
        ModelQuery {
            default_order,
            meta,
            filter: None,
            annotations: Vec::new(),
            group_by: Vec::new(),
            having: None,
            order_by,
            limit: None,
            offset: None,
            distinct: false,
            distinct_on: Vec::new(),
            lock: None,
            related_filters: Vec::new(),
            path_joins: Vec::new(),
            compound: Vec::new(),
        }
    }

    /// This query lowered as a member of a compound select: its ordering (and the joins only
    /// the ordering needed) dropped, every field selected, or `fields` (`values()`).
    pub fn member_select(&self, fields: Option<&[&str]>) -> Result<Select> {
        let mut q = self.clone();
        q.clear_order();
        match fields {
            Some(f) => q.select_fields(f),
            None => Ok(q.select()),
        }
    }

    /// Refuses `what` on a combined query: it would apply to the first member only.
    fn not_combined(&self, what: &str) -> Result<()> {
        if self.compound.is_empty() {
            return Ok(());
        }
        Err(Error::InvalidQuery(format!(
            "{what}() on a combined {} query (union/intersection/difference): apply it to \
             each query before combining them",
            self.meta.name
        )))
    }

    /// Combines `member`'s rows with this query's (Django's `union`/`intersection`/
    /// `difference`): both orderings are dropped (order the combined query instead); a slice
    /// or row lock on either side is refused, as SQLite cannot apply one to a member.
    pub fn combine(mut self, op: crate::ir::SetOp, all: bool, mut member: Select) -> Result<Self> {
        let what = op.keyword();
        if self.limit.is_some()
            || self.offset.is_some()
            || member.limit.is_some()
            || member.offset.is_some()
        {
            return Err(Error::InvalidQuery(format!(
                "{what} of a sliced {} query: slice the combined query instead",
                self.meta.name
            )));
        }
        if self.lock.is_some() || member.lock.is_some() {
            return Err(Error::InvalidQuery(format!(
                "{what} of a locking (for_update) {} query",
                self.meta.name
            )));
        }
        if !member.compound.is_empty() {
            return Err(Error::InvalidQuery(format!(
                "{what} with a combined query as its right member ({}): combine left to right \
                 (`a.union(b).intersection(c)`)",
                self.meta.name
            )));
        }
        self.clear_order();
        member.order_by.clear();
        self.compound.push(crate::ir::CompoundPart {
            op,
            all,
            select: member,
        });
        Ok(self)
    }

    /// The value of `name` for `order_by` / `values` (`counted` for `values`): a field;
    /// `author__name` (relations to one row) a scalar
    /// subquery, one row each; `books__title` (through a relation to many rows) a column of
    /// LEFT OUTER JOINed rows, repeating the row per related row as Django does
    /// ([`crate::relations::joined`]). A path to many rows in a query with aggregates is
    /// [`Error::InvalidQuery`] (the join would change what they count).
    pub fn path_value(
        &mut self,
        models: &dyn crate::relations::Models,
        name: &str,
        counted: bool,
    ) -> Result<Expr> {
        use crate::relations::joined;
        if !joined::crosses_many(models, &self.meta, name) {
            return crate::lookup::field_ref(models, &self.meta, name);
        }
        if !self.grouping().is_empty() || self.annotations.iter().any(|(_, e)| aggregates(e)) {
            return Err(Error::InvalidQuery(format!(
                "{name:?} on {} crosses a relation to many rows, which would change what the \
                 query's aggregates count; order or select by an aggregate of it instead \
                 (`annotate(m=Max(\"{name}\"))`)",
                self.meta.name
            )));
        }
        joined::joined_value(models, &self.meta, &mut self.path_joins, name, counted)
    }

    /// Drops the ordering and the joins only it needed (`order_by()`).
    pub fn clear_order(&mut self) {
        self.default_order = false;
        self.order_by.clear();
        self.path_joins.retain(|j| j.counted);
    }

    /// The column expression of a field, by attribute name.
    pub fn column(&self, field: &str) -> Result<Expr> {
        let f = self.meta.require_field(field)?;
        Ok(field_expr(&self.meta, f))
    }

    /// ANDs a condition in.
    pub fn filter(mut self, cond: Expr) -> Self {
        self.filter = Some(match self.filter.take() {
            Some(f) => f.and(cond),
            None => cond,
        });
        self
    }

    /// Adds a sort key.
    pub fn order_by(mut self, expr: Expr, desc: bool) -> Self {
        if self.default_order {
            self.clear_order();
        }
        self.order_by.push(OrderBy { expr, desc });
        self
    }

    /// Sorts by a field name; a leading `-` means descending (`"-created_at"`).
    pub fn order_by_name(self, spec: &str) -> Result<Self> {
        let (name, desc) = match spec.strip_prefix('-') {
            Some(n) => (n, true),
            None => (spec, false),
        };
        let e = self.column(name)?;
        Ok(self.order_by(e, desc))
    }

    /// Sets `LIMIT`.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Sets `OFFSET`.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    fn base(&self) -> Select {
        let mut s = Select::from(Source::table(self.meta.table.clone()));
        s.filter = self.filter.clone();
        s.order_by = self.order_by.clone();
        s.limit = self.limit;
        s.offset = self.offset;
        s.distinct = self.distinct;
        s.distinct_on = self.distinct_on.clone();
        s.lock = self.lock.clone();
        s.group_by = self.grouping();
        if self.default_order && !s.group_by.is_empty() {
            // Django: `Meta.ordering` is not used in GROUP BY queries.
            s.order_by.clear();
        }
        s.having = self.having.clone();
        s.compound = self.compound.clone();
        for j in &self.path_joins {
            s.joins.extend(j.joins.iter().cloned());
        }
        s
    }

    /// Locks the selected rows until the transaction ends (`FOR UPDATE`, see [`RowLock`]).
    pub fn lock(mut self, lock: Option<RowLock>) -> Self {
        self.lock = lock;
        self
    }

    /// `SELECT` of every field, in declaration order (the row layout model hydration uses),
    /// then the annotations.
    pub fn select(&self) -> Select {
        let mut s = self.base();
        for f in &self.meta.fields {
            s = s.column(field_expr(&self.meta, f), f.ty.value_type());
        }
        for (name, e) in &self.annotations {
            s.columns.push(annotation_item(name, e));
        }
        s
    }

    /// `SELECT` of the named fields or annotations only (for `values()` /
    /// `values_list()`).
    pub fn select_fields(&self, fields: &[&str]) -> Result<Select> {
        let mut s = self.base();
        for name in fields {
            if let Some(e) = self.annotation(name) {
                s.columns.push(annotation_item(name, e));
                continue;
            }
            let f = self.meta.require_field(name)?;
            s = s.column(field_expr(&self.meta, f), f.ty.value_type());
        }
        Ok(s)
    }

    /// The aggregate `func` over the field named `field` (an attribute name or `pk`; `None`
    /// or `"*"` is `COUNT(*)`), only over the rows where `filter` holds when given. Checks
    /// the field exists and the function applies to its type.
    pub fn aggregate_expr(
        &self,
        func: AggFunc,
        field: Option<&str>,
        distinct: bool,
        filter: Option<Expr>,
    ) -> Result<Expr> {
        let (arg, name) = match field {
            None | Some("*") => (None, "*".to_owned()),
            Some(name) => {
                let f = crate::lookup::resolve_field(&self.meta, name)?;
                (Some(field_expr(&self.meta, f)), f.name.clone())
            }
        };
        crate::aggregate::aggregate(func, arg, distinct, filter, (&self.meta.name, &name))
    }

    /// `SELECT agg AS name, …` over the matching rows: one row, one column per aggregate.
    /// Ordering is dropped; a limit, offset or `distinct` is applied first, in a subquery.
    pub fn aggregate(&self, items: Vec<(String, Expr)>) -> Result<Statement> {
        self.not_combined("aggregate")?;
        if items.is_empty() {
            return Err(Error::InvalidQuery(format!(
                "aggregate() on {} needs at least one aggregate",
                self.meta.name
            )));
        }
        let q = self.unordered();
        let mut s = if q.limit.is_some()
            || q.offset.is_some()
            || q.distinct
            || !q.distinct_on.is_empty()
            || !q.annotations.is_empty()
        {
            // The subquery keeps the table's name as its alias, so the aggregates' column
            // references still resolve.
            Select::from(Source::Subquery {
                query: Box::new(q.select()),
                alias: q.meta.table.clone(),
            })
        } else {
            let mut s = Select::from(Source::table(q.meta.table.clone()));
            s.filter = q.filter.clone();
            for j in &q.path_joins {
                s.joins.extend(j.joins.iter().cloned());
            }
            s
        };
        for (name, e) in items {
            crate::ident::validate(&name)?;
            let ty = e.value_type().unwrap_or(crate::ValueType::I64);
            s.columns.push(crate::ir::SelectItem {
                expr: e,
                alias: Some(name),
                ty,
            });
        }
        Ok(Statement::Select(s))
    }

    /// `SELECT COUNT(*)` of the matching rows.
    pub fn count(&self) -> Statement {
        Statement::Count(self.unordered().select())
    }

    /// The query as `count()` and `aggregate()` read it: Django drops the ordering (and
    /// with it the joins only it needed) unless a slice depends on it.
    pub fn unordered(&self) -> std::borrow::Cow<'_, ModelQuery> {
        if self.limit.is_some()
            || self.offset.is_some()
            || (!self.default_order && self.path_joins.iter().all(|j| j.counted))
        {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut q = self.clone();
        q.clear_order();
        std::borrow::Cow::Owned(q)
    }

    /// `SELECT EXISTS (…)` of the matching rows.
    pub fn exists(&self) -> Statement {
        if self.order_by.is_empty() || self.limit.is_some() || self.offset.is_some() {
            return Statement::Exists(self.select());
        }
        let mut q = self.clone();
        q.clear_order();
        Statement::Exists(q.select())
    }

    /// Rows a filtered write should touch. A plain filter is used as is; with a limit,
    /// offset or ordering the rows are chosen by primary key through a subquery.
    fn write_filter(&self) -> Result<Option<Expr>> {
        if self.limit.is_none()
            && self.offset.is_none()
            && !self.distinct
            && self.distinct_on.is_empty()
        {
            return Ok(self.filter.clone());
        }
        let keys = self.meta.primary_key_fields();
        if keys.is_empty() {
            return Err(Error::InvalidQuery(format!(
                "{} has no primary key, so a sliced queryset cannot be updated or deleted",
                self.meta.name
            )));
        }
        let mut sub = self.base();
        for k in &keys {
            sub = sub.column(field_expr(&self.meta, k), k.ty.value_type());
        }
        // One key column: `key IN (SELECT key …)`; a composite key: the row value
        // `(a, b) IN (SELECT a, b …)`, which SQLite, PostgreSQL and MySQL all take.
        let target = match keys.as_slice() {
            [k] => field_expr(&self.meta, k),
            _ => Expr::Row(keys.iter().map(|k| field_expr(&self.meta, k)).collect()),
        };
        Ok(Some(Expr::InSubquery {
            expr: Box::new(target),
            query: Box::new(sub),
        }))
    }

    /// `UPDATE … SET field = expr …` over the matching rows. Field names are attribute
    /// names; values are checked against the field types.
    pub fn update(&self, sets: Vec<(String, Expr)>) -> Result<Statement> {
        self.not_combined("update")?;
        let mut out = Vec::with_capacity(sets.len());
        for (name, e) in sets {
            let f = self.meta.require_field(&name)?;
            if let Expr::Value(v) = &e {
                check_value(&self.meta, f, v)?;
            }
            out.push((f.column.clone(), e));
        }
        Ok(Statement::Update(Update {
            table: self.meta.table.clone(),
            sets: out,
            filter: self.write_filter()?,
            returning: Vec::new(),
            enum_types: self.meta.enum_columns(),
        }))
    }

    /// `DELETE` of the matching rows.
    pub fn delete(&self) -> Result<Statement> {
        self.not_combined("delete")?;
        Ok(Statement::Delete(Delete {
            table: self.meta.table.clone(),
            filter: self.write_filter()?,
            returning: Vec::new(),
        }))
    }
}

/// Checks that `v` may be stored in field `f` (type, nullability and the type contract of
/// [`crate::contract`]: lengths, decimal precision and scale, finite floats), with an error
/// naming the model, the field and the value. Every write from both front doors passes here
/// before any SQL is built.
pub fn check_value(meta: &ModelMeta, f: &FieldMeta, v: &Value) -> Result<()> {
    let bad = |reason: Option<String>| Error::BadValue {
        model: meta.name.clone(),
        field: f.name.clone(),
        value: v.to_string(),
        expected: f.ty.canonical_name().to_owned(),
        reason,
    };
    if v.is_null() {
        if f.nullable || f.auto_increment {
            return Ok(());
        }
        return Err(bad(Some("the field is not nullable".into())));
    }
    let want = f.ty.value_type();
    let got = v.value_type();
    let compatible = got == want
        || matches!(
            (&got, &want),
            (crate::ValueType::I32, crate::ValueType::I64)
        );
    if !compatible {
        return Err(bad(Some(format!("got a {got}"))));
    }
    match crate::contract::violation(&f.ty, v) {
        Some(reason) => Err(bad(Some(reason))),
        None => Ok(()),
    }
}

/// An insert of model rows (as [`insert_rows`]) that handles conflicts on the unique fields
/// `unique_fields`: `update_fields` are set from the proposed row (`DO UPDATE`), or, when
/// empty, the conflicting row is skipped (`DO NOTHING`; then `unique_fields` may be empty
/// too: any conflict). Field names are checked before any SQL.
pub fn upsert_rows(
    meta: &ModelMeta,
    rows: Vec<Vec<(String, Value)>>,
    unique_fields: &[String],
    update_fields: &[String],
) -> Result<crate::ir::Upsert> {
    let columns = |names: &[String]| -> Result<Vec<String>> {
        names
            .iter()
            .map(|n| Ok(crate::lookup::resolve_field(meta, n)?.column.clone()))
            .collect()
    };
    let on_conflict = crate::ir::OnConflict {
        columns: columns(unique_fields)?,
        update: columns(update_fields)?,
    };
    if !on_conflict.update.is_empty() && on_conflict.columns.is_empty() {
        return Err(Error::InvalidQuery(format!(
            "bulk_create(update_conflicts=True) on {} needs unique_fields (the fields whose \
             conflict means \"update this row\")",
            meta.name
        )));
    }
    Ok(crate::ir::Upsert {
        insert: insert_rows(meta, rows)?,
        on_conflict,
    })
}

/// A `bulk_update` of model rows: `rows` are `(primary-key values, values of fields)` (one key
/// value, or one per field of a composite key), the fields named by attribute; every value
/// checked as a write is. The key cannot be
/// updated.
pub fn bulk_update_rows(
    meta: &ModelMeta,
    fields: &[String],
    rows: Vec<(Vec<Value>, Vec<Value>)>,
) -> Result<crate::ir::BulkUpdate> {
    let keys = meta.primary_key_fields();
    if keys.is_empty() {
        return Err(Error::InvalidQuery(format!(
            "bulk_update() on {}: it has no primary key",
            meta.name
        )));
    }
    if fields.is_empty() {
        return Err(Error::InvalidQuery(format!(
            "bulk_update() on {} needs at least one field",
            meta.name
        )));
    }
    let mut metas = Vec::with_capacity(fields.len());
    for n in fields {
        let f = crate::lookup::resolve_field(meta, n)?;
        if f.primary_key {
            return Err(Error::InvalidQuery(format!(
                "bulk_update() on {} cannot update the primary key {}",
                meta.name, f.name
            )));
        }
        if matches!(
            f.ty.value_type(),
            crate::ValueType::Array(_) | crate::ValueType::Bytes
        ) {
            return Err(Error::InvalidQuery(format!(
                "bulk_update() on {}: {} fields ({}) cannot be bulk-updated yet; use update()",
                meta.name,
                f.ty.canonical_name(),
                f.name
            )));
        }
        metas.push(f);
    }
    let mut out = Vec::with_capacity(rows.len());
    for (key, values) in rows {
        if key.len() != keys.len() || key.iter().any(Value::is_null) {
            return Err(Error::InvalidQuery(format!(
                "bulk_update() on {}: every object needs its primary key {}",
                meta.name,
                meta.key_names()
            )));
        }
        if values.len() != metas.len() {
            return Err(Error::InvalidQuery(format!(
                "bulk_update() on {}: {} values for {} fields",
                meta.name,
                values.len(),
                metas.len()
            )));
        }
        let mut row = Vec::with_capacity(values.len() + key.len());
        row.extend(key);
        for (v, f) in values.into_iter().zip(&metas) {
            check_value(meta, f, &v)?;
            // One type per column (an `i32` given for a BigInteger field is widened).
            row.push(match (v, f.ty.value_type()) {
                (Value::I32(x), crate::ValueType::I64) => Value::I64(x as i64),
                (Value::Null(_), t) => Value::Null(t),
                (v, _) => v,
            });
        }
        out.push(row);
    }
    Ok(crate::ir::BulkUpdate {
        table: meta.table.clone(),
        keys: keys
            .iter()
            .map(|k| (k.column.clone(), k.ty.value_type()))
            .collect(),
        columns: metas
            .iter()
            .map(|f| (f.column.clone(), f.ty.value_type()))
            .collect(),
        rows: out,
        enum_types: meta.enum_columns(),
    })
}

/// The primary-key condition `pk = value` of a model keyed by one field; a model with a
/// composite key is refused with an error naming it (see [`pk_filter_values`]).
pub fn pk_filter(meta: &ModelMeta, pk: Value) -> Result<Expr> {
    pk_filter_values(meta, vec![pk])
}

/// The primary-key condition `k1 = v1 AND k2 = v2 …`: one value per key field, in declared
/// order (one value for a model keyed by one field). A count that does not match, or a model
/// without a key, is [`Error::InvalidQuery`] naming the model and its key fields.
pub fn pk_filter_values(meta: &ModelMeta, values: Vec<Value>) -> Result<Expr> {
    let keys = meta.primary_key_fields();
    if keys.is_empty() {
        return Err(Error::InvalidQuery(format!(
            "{} has no primary key",
            meta.name
        )));
    }
    if keys.len() != values.len() {
        return Err(Error::InvalidQuery(format!(
            "{} has the primary key {}: a key value needs {} value(s), got {}",
            meta.name,
            meta.key_names(),
            keys.len(),
            values.len()
        )));
    }
    let mut parts: Vec<Expr> = keys
        .iter()
        .zip(values)
        .map(|(f, v)| field_expr(meta, f).eq(Expr::Value(v)))
        .collect();
    Ok(if parts.len() == 1 {
        parts.pop().expect("one part")
    } else {
        Expr::And(parts)
    })
}

/// An insert of model rows. Each row lists `(field name, value)`; fields not listed are left
/// to the database (auto-increment keys, `now()` defaults) or get their constant default.
/// Rows must list the same fields. Returns every field, so generated values can be written
/// back into the objects.
pub fn insert_rows(meta: &ModelMeta, rows: Vec<Vec<(String, Value)>>) -> Result<Insert> {
    let first: Vec<String> = rows
        .first()
        .map(|r| r.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    let mut fields: Vec<usize> = Vec::with_capacity(first.len());
    for name in &first {
        meta.require_field(name)?;
        fields.push(
            meta.fields
                .iter()
                .position(|f| &f.name == name)
                .expect("require_field found it"),
        );
    }
    let mut values = Vec::with_capacity(rows.len());
    for row in rows {
        if row.len() != first.len() || row.iter().zip(&first).any(|((n, _), m)| n != m) {
            return Err(Error::InvalidQuery(format!(
                "bulk insert of {}: every row must set the same fields ({})",
                meta.name,
                first.join(", ")
            )));
        }
        values.push(row.into_iter().map(|(_, v)| v).collect());
    }
    insert_field_rows(meta, &fields, values)
}

/// [`insert_rows`] with the fields given once, by index into `meta.fields`, and each row's
/// values in that order: no field name per value. Every value is checked against its
/// field; fields left out that have a constant default get it; the `RETURNING` is every
/// field.
pub fn insert_field_rows(
    meta: &ModelMeta,
    fields: &[usize],
    rows: Vec<Vec<Value>>,
) -> Result<Insert> {
    let fields: Vec<&FieldMeta> = fields
        .iter()
        .map(|&i| {
            meta.fields.get(i).ok_or_else(|| {
                Error::InvalidQuery(format!("bulk insert of {}: no field #{i}", meta.name))
            })
        })
        .collect::<Result<_>>()?;
    // Constant defaults for fields the rows leave out.
    let defaults: Vec<(&FieldMeta, Value)> = meta
        .fields
        .iter()
        .filter(|f| !fields.iter().any(|g| g.name == f.name))
        .filter_map(|f| match &f.default {
            Some(DefaultValue::Value(v)) => Some((f, v.clone())),
            _ => None,
        })
        .collect();
    let mut columns: Vec<String> = fields.iter().map(|f| f.column.clone()).collect();
    columns.extend(defaults.iter().map(|(f, _)| f.column.clone()));
    let mut out_rows = Vec::with_capacity(rows.len());
    for row in rows {
        if row.len() != fields.len() {
            return Err(Error::InvalidQuery(format!(
                "bulk insert of {}: a row has {} values for {} fields",
                meta.name,
                row.len(),
                fields.len()
            )));
        }
        let mut vals = row;
        for (v, f) in vals.iter().zip(&fields) {
            check_value(meta, f, v)?;
        }
        vals.extend(defaults.iter().map(|(_, v)| v.clone()));
        out_rows.push(vals);
    }
    Ok(Insert {
        table: meta.table.clone(),
        columns,
        rows: out_rows,
        returning: meta
            .fields
            .iter()
            .map(|f| f.column_ref(meta.table.clone()))
            .collect(),
        enum_types: meta.enum_columns(),
    })
}
