//! [`Sqlite`]: SQLite's SQL hooks.

use super::values::{self, scalar_to_json};
use crate::dialect::{standard, SqlHooks};
use crate::sql::expression::{expr, ordered};
use crate::sql::writer::SqlWriter;
use chakra_dsl::ir::{ContainOf, ContainOp};
use chakra_dsl::{
    AggFunc, Aggregate, ArithOp, BulkUpdate, DatePart, Error, Expr, FieldType, JsonAs, Result,
    ScalarFunc, Value, ValueType,
};

/// SQLite 3.35+ (the unit type its hooks are implemented on).
#[derive(Debug, Clone, Copy)]
pub struct Sqlite;

impl SqlHooks for Sqlite {
    fn title(&self) -> &'static str {
        "SQLite"
    }

    fn max_binds(&self) -> usize {
        32_766
    }

    fn to_storage(&self, v: Value) -> Value {
        values::to_storage(v)
    }

    fn bool_literal(&self, b: bool) -> &'static str {
        if b {
            "1"
        } else {
            "0"
        }
    }

    /// SQLite takes no parentheses around a member, and gives the operators equal
    /// precedence (left to right already).
    fn parenthesised_compound_members(&self) -> bool {
        false
    }

    /// Decimals are stored as text and datetimes in several written forms.
    fn stored_order_differs(&self, ty: &ValueType) -> bool {
        matches!(ty, ValueType::Decimal | ValueType::DateTime)
    }

    /// NULLs sort as smaller than any value here: said explicitly, so both backends agree.
    fn nulls_order(&self, desc: bool) -> &'static str {
        if desc {
            " NULLS FIRST"
        } else {
            " NULLS LAST"
        }
    }

    /// SQLite (3.47+) re-prepares a statement whose `LIMIT ?` parameter is bound (it plans
    /// with the bound value): every execution would parse the SQL again. A CAST is not a
    /// bare parameter, so the prepared statement is reused.
    fn limit(&self, w: &mut SqlWriter, n: i64) {
        w.sql(" LIMIT CAST(");
        w.bind(Value::I64(n));
        w.sql(" AS INTEGER)");
    }

    fn offset_without_limit(&self) -> &'static str {
        " LIMIT -1"
    }

    /// Transactions (`BEGIN IMMEDIATE`) already serialise writers.
    fn row_locks(&self) -> bool {
        false
    }

    fn column_type(&self, ty: &FieldType) -> String {
        super::types::column_type(ty)
    }

    fn auto_primary_key(&self, _ty: &FieldType) -> &'static str {
        "INTEGER PRIMARY KEY AUTOINCREMENT"
    }

    fn now_default(&self, ty: &FieldType) -> &'static str {
        match ty {
            FieldType::Date => "(date('now'))",
            _ => "(strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')",
        }
    }

    fn default_literal(&self, v: &Value) -> String {
        super::types::default_literal(v)
    }

    /// References are checked only when rows are written, so they stay inline.
    fn defers_forward_references(&self) -> bool {
        false
    }

    /// SQLite's own `lower` folds ASCII only: `chakra_lower`, registered on each connection.
    fn lower_fn(&self) -> &'static str {
        "chakra_lower"
    }

    /// Decimals are stored as text, so they compare through their numeric value, and a
    /// datetime column through `chakra_datetime` (`dialect/sqlite/datetime.rs`), so forms
    /// other writers store compare as the instants they name.
    fn ordered(&self, w: &mut SqlWriter, e: &Expr) -> Result<()> {
        if matches!(e, Expr::Column(c) if c.ty == ValueType::DateTime) {
            w.sql("chakra_datetime(");
            expr(w, e)?;
            w.sql(")");
            Ok(())
        } else if matches!(e.value_type(), Some(ValueType::Decimal)) {
            w.sql("CAST(");
            expr(w, e)?;
            w.sql(" AS REAL)");
            Ok(())
        } else {
            expr(w, e)
        }
    }

    /// `REGEXP` (registered on each connection), case-insensitive with `(?i)`.
    fn regex(
        &self,
        w: &mut SqlWriter,
        target: &Expr,
        pattern: &str,
        case_insensitive: bool,
    ) -> Result<()> {
        expr(w, target)?;
        w.sql(" REGEXP ");
        let p = if case_insensitive {
            format!("(?i){pattern}")
        } else {
            pattern.to_owned()
        };
        w.bind(Value::Text(p));
        Ok(())
    }

    /// The Unicode-aware `chakra_lower`/`chakra_upper` stand in for `lower`/`upper` (ASCII
    /// only here); `Now()` is Chakra's fixed-width UTC timestamp text.
    fn scalar_func(&self, w: &mut SqlWriter, func: ScalarFunc, items: &[Expr]) -> Result<()> {
        match func {
            ScalarFunc::Lower => standard::call(w, "chakra_lower", items),
            ScalarFunc::Upper => standard::call(w, "chakra_upper", items),
            ScalarFunc::Length => standard::call(w, "LENGTH", items),
            ScalarFunc::Now => {
                w.sql("strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')");
                Ok(())
            }
            ScalarFunc::Coalesce => standard::scalar_func(w, func, items),
        }
    }

    /// A datetime column through `chakra_datetime`: the UTC date, whatever form (offset,
    /// separator) its writer used.
    fn date_of(&self, w: &mut SqlWriter, target: &Expr) -> Result<()> {
        w.sql("substr(");
        ordered(w, target)?;
        w.sql(", 1, 10)");
        Ok(())
    }

    fn extract(
        &self,
        w: &mut SqlWriter,
        part: DatePart,
        target: &Expr,
        _ty: &ValueType,
    ) -> Result<()> {
        let fmt = match part {
            DatePart::Year => "%Y",
            DatePart::Month => "%m",
            DatePart::Day => "%d",
            DatePart::WeekDay => "%w",
            DatePart::Hour => "%H",
            DatePart::Minute => "%M",
            DatePart::Second => "%S",
        };
        w.sql("(CAST(strftime('");
        w.sql(fmt);
        w.sql("', ");
        ordered(w, target)?;
        w.sql(") AS INTEGER)");
        if part == DatePart::WeekDay {
            w.sql(" + 1");
        }
        w.sql(")");
        Ok(())
    }

    /// Decimals are text: exact arithmetic, never floating point; the quotient rounded to
    /// the scale PostgreSQL's numeric division picks.
    fn arith(
        &self,
        w: &mut SqlWriter,
        left: &Expr,
        op: ArithOp,
        right: &Expr,
        ty: Option<ValueType>,
    ) -> Result<()> {
        if ty != Some(ValueType::Decimal) {
            return standard::arith(w, left, op, right);
        }
        w.sql(match op {
            ArithOp::Add => "chakra_decimal_add(",
            ArithOp::Sub => "chakra_decimal_sub(",
            ArithOp::Mul => "chakra_decimal_mul(",
            ArithOp::Div => "chakra_decimal_div(",
        });
        expr(w, left)?;
        w.sql(", ");
        expr(w, right)?;
        w.sql(")");
        Ok(())
    }

    /// Arrays are JSON text.
    fn array_len(&self, w: &mut SqlWriter, target: &Expr) -> Result<()> {
        w.sql("json_array_length(");
        expr(w, target)?;
        w.sql(")");
        Ok(())
    }

    fn array_index(&self, w: &mut SqlWriter, target: &Expr, index: u32) -> Result<()> {
        w.sql("json_extract(");
        expr(w, target)?;
        w.sql(&format!(", '$[{index}]')"));
        Ok(())
    }

    /// Arrays and JSON are JSON text: arrays are walked with `json_each` (elements compared
    /// by value), JSON containment is `chakra_json_contains` (PostgreSQL's `@>` rules,
    /// `dialect/sqlite/json_contains.rs`), and keys are the object's top-level `json_each`
    /// keys.
    fn contain(
        &self,
        w: &mut SqlWriter,
        op: ContainOp,
        left: &Expr,
        right: &Expr,
        of: ContainOf,
    ) -> Result<()> {
        match (of, op) {
            (ContainOf::Json, ContainOp::Contains | ContainOp::ContainedBy) => {
                let (a, b) = if op == ContainOp::Contains {
                    (left, right)
                } else {
                    (right, left)
                };
                w.sql("chakra_json_contains(");
                expr(w, a)?;
                w.sql(", ");
                expr(w, b)?;
                w.sql(")");
            }
            (ContainOf::Array, ContainOp::Contains | ContainOp::ContainedBy) => {
                // Every element of `inner` is somewhere in `outer`.
                let (outer, inner) = if op == ContainOp::Contains {
                    (left, right)
                } else {
                    (right, left)
                };
                w.sql("(");
                expr(w, left)?;
                w.sql(" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(");
                expr(w, inner)?;
                w.sql(") AS \"_ci\" WHERE NOT EXISTS (SELECT 1 FROM json_each(");
                expr(w, outer)?;
                w.sql(") AS \"_co\" WHERE \"_co\".value = \"_ci\".value)))");
            }
            (_, ContainOp::Overlap) => {
                w.sql("(");
                expr(w, left)?;
                w.sql(" IS NOT NULL AND EXISTS (SELECT 1 FROM json_each(");
                expr(w, left)?;
                w.sql(") AS \"_ca\", json_each(");
                expr(w, right)?;
                w.sql(") AS \"_cb\" WHERE \"_ca\".value = \"_cb\".value))");
            }
            (_, ContainOp::HasAllKeys | ContainOp::HasAnyKeys) => {
                w.sql("(json_type(");
                expr(w, left)?;
                w.sql(if op == ContainOp::HasAllKeys {
                    ") = 'object' AND NOT EXISTS (SELECT 1 FROM json_each("
                } else {
                    ") = 'object' AND EXISTS (SELECT 1 FROM json_each("
                });
                expr(w, right)?;
                w.sql(if op == ContainOp::HasAllKeys {
                    ") AS \"_ck\" WHERE \"_ck\".value NOT IN (SELECT key FROM json_each("
                } else {
                    ") AS \"_ck\" WHERE \"_ck\".value IN (SELECT key FROM json_each("
                });
                expr(w, left)?;
                w.sql("))))");
            }
        }
        Ok(())
    }

    /// The path a bound `$.a[0]."b"` text for `json_type`/`json_extract`.
    fn json_path(
        &self,
        w: &mut SqlWriter,
        target: &Expr,
        path: &[String],
        extract: JsonAs,
    ) -> Result<()> {
        let mut p = String::from("$");
        for k in path {
            if !k.is_empty() && k.chars().all(|c| c.is_ascii_digit()) {
                p.push('[');
                p.push_str(k);
                p.push(']');
            } else {
                p.push_str(".\"");
                p.push_str(k);
                p.push('"');
            }
        }
        let type_of = |w: &mut SqlWriter| -> Result<()> {
            w.sql("json_type(");
            expr(w, target)?;
            w.sql(", ");
            w.bind(Value::Text(p.clone()));
            w.sql(")");
            Ok(())
        };
        let types = match extract {
            JsonAs::TypeName => return type_of(w),
            JsonAs::Text => "('text')",
            JsonAs::Number => "('integer', 'real')",
            JsonAs::Bool => "('true', 'false')",
        };
        w.sql("CASE WHEN ");
        type_of(w)?;
        w.sql(" IN ");
        w.sql(types);
        w.sql(" THEN json_extract(");
        expr(w, target)?;
        w.sql(", ");
        w.bind(Value::Text(p));
        w.sql(") END");
        Ok(())
    }

    fn cast_type(&self, ty: &ValueType) -> Option<&'static str> {
        Some(match ty {
            ValueType::I32 | ValueType::I64 => "INTEGER",
            ValueType::F64 => "REAL",
            ValueType::Decimal | ValueType::Text => "TEXT",
            _ => return None,
        })
    }

    /// SQLite's cast to an integer truncates already; decimal text to a number goes through
    /// its numeric value.
    fn cast(&self, w: &mut SqlWriter, e: &Expr, ty: &ValueType, target: &str) -> Result<()> {
        w.sql("CAST(");
        if e.value_type() == Some(ValueType::Decimal) && ty != &ValueType::Text {
            ordered(w, e)?;
        } else {
            expr(w, e)?;
        }
        w.sql(" AS ");
        w.sql(target);
        w.sql(")");
        Ok(())
    }

    /// Decimals are stored as text: `SUM`/`AVG`/`MIN`/`MAX` of a decimal run through the
    /// exact decimal aggregates registered on each connection (`chakra_decimal_*`), never
    /// through floating point; every aggregate is named (no catch-all), so a new one must
    /// say its decimal form here. A datetime column's `MIN`/`MAX` compare instants,
    /// whatever form its writer used.
    fn aggregate(&self, w: &mut SqlWriter, a: &Aggregate) -> Result<()> {
        let decimal = a.arg.as_ref().and_then(Expr::value_type) == Some(ValueType::Decimal);
        if decimal {
            let name = match a.func {
                AggFunc::Count => "COUNT",
                AggFunc::Sum => "chakra_decimal_sum",
                AggFunc::Avg => "chakra_decimal_avg",
                AggFunc::Min => "chakra_decimal_min",
                AggFunc::Max => "chakra_decimal_max",
            };
            return standard::agg_call(w, name, a);
        }
        let datetime = matches!(&a.arg, Some(Expr::Column(c)) if c.ty == ValueType::DateTime);
        match a.func {
            AggFunc::Min if datetime => standard::agg_call_with(w, "MIN", a, ordered),
            AggFunc::Max if datetime => standard::agg_call_with(w, "MAX", a, ordered),
            _ => standard::aggregate(w, a),
        }
    }

    /// One JSON parameter expanded by `json_each`: constant SQL text, no limit on the number
    /// of values (not for blobs, JSON or arrays, which `json_each` would not give back as
    /// stored).
    fn in_list(
        &self,
        w: &mut SqlWriter,
        target: &Expr,
        values: &[Value],
        elem: &ValueType,
    ) -> Result<bool> {
        // DDL (an index predicate, a CHECK) refuses subqueries: there the walk writes the
        // explicit list of literals.
        if w.is_ddl()
            || matches!(
                elem,
                ValueType::Bytes | ValueType::Json | ValueType::Array(_)
            )
        {
            return Ok(false);
        }
        let list = serde_json::Value::Array(values.iter().map(scalar_to_json).collect());
        ordered(w, target)?;
        w.sql(" IN (SELECT ");
        if *elem == ValueType::Decimal {
            w.sql("CAST(value AS REAL)");
        } else {
            w.sql("value");
        }
        w.sql(" FROM json_each(");
        w.bind(Value::Text(list.to_string()));
        w.sql("))");
        Ok(true)
    }

    /// One JSON text of the rows (each an array, the keys first) read through `json_each`
    /// (`UPDATE … FROM`, SQLite ≥ 3.33); not for bytes, which JSON cannot carry.
    fn bulk_update_rows(&self, w: &mut SqlWriter, b: &BulkUpdate) -> Result<()> {
        let mut rows = Vec::with_capacity(b.rows.len());
        for row in &b.rows {
            let mut out = Vec::with_capacity(row.len());
            for v in row {
                if matches!(v, Value::Bytes(_)) {
                    return Err(Error::InvalidQuery(format!(
                        "bulk update of {:?}: bytes columns are not supported on SQLite",
                        b.table
                    )));
                }
                out.push(scalar_to_json(&values::to_storage(v.clone())));
            }
            rows.push(serde_json::Value::Array(out));
        }
        w.sql("(SELECT ");
        let keys = b.keys.len();
        for i in 0..keys {
            if i > 0 {
                w.sql(", ");
            }
            w.sql("json_extract(value, '$[");
            w.sql(&i.to_string());
            w.sql("]') AS ");
            w.ident(&BulkUpdate::key_alias(i))?;
        }
        for i in 0..b.columns.len() {
            w.sql(", json_extract(value, '$[");
            w.sql(&(i + keys).to_string());
            w.sql("]') AS ");
            w.ident(&format!("_c{i}"))?;
        }
        w.sql(" FROM json_each(");
        w.bind(Value::Text(serde_json::Value::Array(rows).to_string()));
        w.sql(")) AS \"_v\"");
        Ok(())
    }
}
