//! [`Postgres`]: PostgreSQL's SQL hooks.

use crate::dialect::{standard, SqlHooks};
use crate::sql::expression::{enum_column_bare, expr};
use crate::sql::statement::column_arrays;
use crate::sql::writer::SqlWriter;
use chakra_dsl::ir::{ContainOf, ContainOp};
use chakra_dsl::{
    Aggregate, ArrayValue, BulkUpdate, ColumnRef, Error, Expr, FieldType, Insert, JsonAs, Result,
    Value, ValueType,
};

/// PostgreSQL (and compatible engines; the unit type its hooks are implemented on).
#[derive(Debug, Clone, Copy)]
pub struct Postgres;

impl SqlHooks for Postgres {
    fn title(&self) -> &'static str {
        "PostgreSQL"
    }

    /// `$1`, `$2`, …
    fn placeholder(&self, out: &mut String, n: usize) {
        use std::fmt::Write;
        let _ = write!(out, "${n}");
    }

    fn max_binds(&self) -> usize {
        65_535
    }

    fn enum_as_text(&self) -> &'static str {
        "::text"
    }

    fn distinct_on(&self) -> bool {
        true
    }

    fn native_enums(&self) -> bool {
        true
    }

    /// `CAST(… AS "type")` (`"type"[]` for an array): a text value meets the native type.
    fn enum_value(
        &self,
        w: &mut SqlWriter,
        ty: &str,
        array: bool,
        inner: &mut dyn FnMut(&mut SqlWriter) -> Result<()>,
    ) -> Result<()> {
        w.sql("CAST(");
        inner(w)?;
        w.sql(" AS ");
        w.ident(ty)?;
        if array {
            w.sql("[]");
        }
        w.sql(")");
        Ok(())
    }

    /// `"t"."c" = ANY(ARRAY(SELECT … WHERE "_e"::text = $1))`: the value looked up among the
    /// type's labels in an uncorrelated subquery (run once, before the scan), so an index on
    /// the column is usable, and a value the type lacks matches nothing (an empty array: false,
    /// as `"c"::text = $1` is for a stored value) where a cast to the type would fail. A NULL
    /// column compared with a value the type lacks is false rather than unknown; Chakra's
    /// `exclude` counts both as "not matched" (`… OR (…) IS NULL`), so no filter differs.
    fn enum_equals(
        &self,
        w: &mut SqlWriter,
        column: &ColumnRef,
        ty: &str,
        value: &Value,
    ) -> Result<bool> {
        // In DDL (an index predicate, a CHECK) a subquery is refused and the text cast is not
        // immutable: the column is compared with the literal, which PostgreSQL reads as a
        // label of the type (a text the type lacks is then an error when the DDL runs).
        if value.is_null() || !matches!(value, Value::Text(_)) || w.is_ddl() {
            return Ok(false);
        }
        enum_column_bare(w, column)?;
        w.sql(" = ANY(ARRAY(");
        enum_labels(w, ty)?;
        w.sql(" = ");
        w.bind(value.clone());
        w.sql("))");
        Ok(true)
    }

    fn create_enum_type(&self, name: &str, values: &[String]) -> Result<Option<String>> {
        super::enum_ddl::create_type_if_absent(name, values).map(Some)
    }

    fn drop_enum_type_if_unused(&self, name: &str) -> Result<Option<String>> {
        super::enum_ddl::drop_type_if_unused(name).map(Some)
    }

    fn insert_column_arrays(&self) -> bool {
        true
    }

    fn column_type(&self, ty: &FieldType) -> String {
        super::types::column_type(ty)
    }

    fn auto_primary_key(&self, ty: &FieldType) -> &'static str {
        match ty {
            FieldType::Integer => "SERIAL PRIMARY KEY",
            _ => "BIGSERIAL PRIMARY KEY",
        }
    }

    fn now_default(&self, ty: &FieldType) -> &'static str {
        match ty {
            FieldType::Date => "CURRENT_DATE",
            _ => "now()",
        }
    }

    fn default_literal(&self, v: &Value) -> String {
        super::types::default_literal(v)
    }

    /// `CASCADE`, so reference cycles drop too.
    fn drop_table_suffix(&self) -> &'static str {
        " CASCADE"
    }

    fn regex(
        &self,
        w: &mut SqlWriter,
        target: &Expr,
        pattern: &str,
        case_insensitive: bool,
    ) -> Result<()> {
        expr(w, target)?;
        w.sql(if case_insensitive { " ~* " } else { " ~ " });
        w.bind(Value::Text(pattern.to_owned()));
        Ok(())
    }

    /// Operators for each test (`@>`, `<@`, `&&`, `?&`, `?|`).
    fn contain(
        &self,
        w: &mut SqlWriter,
        op: ContainOp,
        left: &Expr,
        right: &Expr,
        _of: ContainOf,
    ) -> Result<()> {
        let sym = match op {
            ContainOp::Contains => " @> ",
            ContainOp::ContainedBy => " <@ ",
            ContainOp::Overlap => " && ",
            ContainOp::HasAllKeys => " ?& ",
            ContainOp::HasAnyKeys => " ?| ",
        };
        w.sql("(");
        expr(w, left)?;
        w.sql(sym);
        expr(w, right)?;
        w.sql(")");
        Ok(())
    }

    /// The path a bound `text[]` for `#>`/`#>>`, the type read with `jsonb_typeof`.
    fn json_path(
        &self,
        w: &mut SqlWriter,
        target: &Expr,
        path: &[String],
        extract: JsonAs,
    ) -> Result<()> {
        let items: Vec<Value> = path.iter().map(|p| Value::Text(p.clone())).collect();
        let arr = ArrayValue::from_values(&ValueType::Text, &items)
            .ok_or_else(|| Error::InvalidQuery("bad JSON path".into()))?;
        let type_of = |w: &mut SqlWriter| -> Result<()> {
            w.sql("jsonb_typeof(");
            expr(w, target)?;
            w.sql(" #> ");
            w.bind(Value::Array(arr.clone()));
            w.sql(")");
            Ok(())
        };
        let (name, cast) = match extract {
            JsonAs::TypeName => return type_of(w),
            JsonAs::Text => ("string", None),
            JsonAs::Number => ("number", Some("DOUBLE PRECISION")),
            JsonAs::Bool => ("boolean", Some("BOOLEAN")),
        };
        w.sql("CASE WHEN ");
        type_of(w)?;
        w.sql(" = '");
        w.sql(name);
        w.sql("' THEN ");
        if cast.is_some() {
            w.sql("CAST(");
        }
        expr(w, target)?;
        w.sql(" #>> ");
        w.bind(Value::Array(arr));
        if let Some(c) = cast {
            w.sql(" AS ");
            w.sql(c);
            w.sql(")");
        }
        w.sql(" END");
        Ok(())
    }

    /// `SUM` of integers is `numeric` for `bigint`: cast back to `BIGINT`; `AVG` of integers
    /// is `numeric`: cast to `DOUBLE PRECISION` (as SQLite's `AVG`); `AVG` of a decimal is
    /// the exact sum over the count, rounded to 16 places (`AVG(numeric)` picks its scale
    /// from the magnitude).
    fn aggregate(&self, w: &mut SqlWriter, a: &Aggregate) -> Result<()> {
        const TYPES: standard::AggregateTypes = standard::AggregateTypes {
            integer: "BIGINT",
            double: "DOUBLE PRECISION",
            decimal_sum: Some("NUMERIC(1000, 20)"),
        };
        if standard::typed_aggregate(w, a, &TYPES)? {
            return Ok(());
        }
        standard::aggregate(w, a)
    }

    /// One array parameter (`= ANY($1)`): the SQL text does not depend on the list's length,
    /// so the prepared statement is reused (diesel's statement cache never evicts).
    fn in_list(
        &self,
        w: &mut SqlWriter,
        target: &Expr,
        values: &[Value],
        elem: &ValueType,
    ) -> Result<bool> {
        // DDL (an index predicate, a CHECK): the walk's explicit list of literals, which an
        // enum column reads as its labels (a subquery is refused there).
        if w.is_ddl() {
            return Ok(false);
        }
        let Some(arr) = ArrayValue::from_values(elem, values) else {
            return Ok(false);
        };
        if let (Expr::Column(c), ValueType::Text) = (target, elem) {
            if let Some(ty) = &c.enum_type {
                // An enum column: its labels among the values (as `enum_equals`).
                enum_column_bare(w, c)?;
                w.sql(" = ANY(ARRAY(");
                enum_labels(w, ty)?;
                w.sql(" = ANY(");
                w.bind(Value::Array(arr));
                w.sql(")))");
                return Ok(true);
            }
        }
        expr(w, target)?;
        w.sql(" = ANY(");
        w.bind(Value::Array(arr));
        w.sql(")");
        Ok(true)
    }

    /// `unnest` of one typed array per column (the keys' first), named `"_v"("_k", ["_k1", …,]
    /// "_c0", …)`.
    fn bulk_update_rows(&self, w: &mut SqlWriter, b: &BulkUpdate) -> Result<()> {
        let as_insert = Insert {
            enum_types: b.enum_types.clone(),
            table: b.table.clone(),
            columns: b
                .keys
                .iter()
                .chain(&b.columns)
                .map(|(c, _)| c.clone())
                .collect(),
            rows: b.rows.clone(),
            returning: Vec::new(),
        };
        let Some(arrays) = column_arrays(&as_insert)? else {
            return Err(Error::InvalidQuery(format!(
                "bulk update of {:?}: these column types cannot be bound as arrays",
                b.table
            )));
        };
        w.sql("unnest(");
        for (i, a) in arrays.into_iter().enumerate() {
            if i > 0 {
                w.sql(", ");
            }
            w.bind(Value::Array(a));
        }
        w.sql(") AS \"_v\"(");
        for i in 0..b.keys.len() {
            if i > 0 {
                w.sql(", ");
            }
            w.ident(&BulkUpdate::key_alias(i))?;
        }
        for i in 0..b.columns.len() {
            w.sql(", ");
            w.ident(&format!("_c{i}"))?;
        }
        w.sql(")");
        Ok(())
    }
}

/// `SELECT "_e" FROM unnest(enum_range(NULL::"type")) AS "_e" WHERE "_e"::text`: the start of
/// a look-up of labels of the enum type `ty` by their text (the caller writes the comparison).
fn enum_labels(w: &mut SqlWriter, ty: &str) -> Result<()> {
    w.sql("SELECT \"_e\" FROM unnest(enum_range(NULL::");
    w.ident(ty)?;
    w.sql(")) AS \"_e\" WHERE \"_e\"::text");
    Ok(())
}
