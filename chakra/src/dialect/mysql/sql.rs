//! [`Mysql`]: MySQL's and MariaDB's SQL hooks (one SQL for both flavours; where they differ
//! at run time, the executor decides: `INSERT … RETURNING` on MySQL, see
//! [`super::returning`]).
//!
//! Text compares as PostgreSQL and SQLite compare it, whatever the column's collation (the
//! server's default `utf8mb4_general_ci` or `utf8mb4_0900_ai_ci` ignores case, accents and
//! trailing spaces): comparisons, `IN`, `BETWEEN` and sorting of text go through
//! `CAST(… AS BINARY)` (the UTF-8 bytes, so code point order), and `LIKE` patterns take
//! `COLLATE utf8mb4_bin` (`LIKE` never pads). Case-insensitive lookups fold both sides with
//! `LOWER` first (`sql/case_fold.rs`).

use crate::dialect::{standard, SqlHooks};
use crate::sql::expression::{cmp_op, expr, ordered};
use crate::sql::writer::SqlWriter;
use chakra_dsl::ir::{ContainOf, ContainOp};
use chakra_dsl::{
    AggFunc, Aggregate, ArithOp, ArrayValue, BulkUpdate, CmpOp, DatePart, Error, Expr, FieldType,
    JsonAs, LockStrength, LockWait, OnConflict, Result, RowLock, ScalarFunc, Value, ValueType,
};

/// MySQL 8 and MariaDB 10.11+ (the unit type its hooks are implemented on).
#[derive(Debug, Clone, Copy)]
pub struct Mysql;

/// The named refusal of what a later stage adds.
pub fn not_yet(what: &str) -> Error {
    Error::InvalidQuery(format!("{what}: not yet supported on MySQL/MariaDB"))
}

fn no_arrays() -> Error {
    Error::InvalidQuery(
        "array columns and lookups: not supported on MySQL/MariaDB (no array type); store \
         the list in a JSON field"
            .into(),
    )
}

/// An operand of decimal arithmetic: a bound integer or decimal as `CAST(? AS DECIMAL(65,
/// s))`, `s` its own scale (so the server computes exactly, with the scale PostgreSQL gives
/// the value); anything else as itself.
fn decimal_operand(w: &mut SqlWriter, e: &Expr) -> Result<()> {
    let scale = match e {
        Expr::Value(Value::I32(_) | Value::I64(_)) => 0,
        Expr::Value(Value::Decimal(d)) => d.as_bigint_and_exponent().1.clamp(0, 30),
        _ => return expr(w, e),
    };
    w.sql("CAST(");
    expr(w, e)?;
    w.sql(&format!(" AS DECIMAL(65, {scale}))"));
    Ok(())
}

impl SqlHooks for Mysql {
    fn title(&self) -> &'static str {
        "MySQL/MariaDB"
    }

    fn max_binds(&self) -> usize {
        65_535
    }

    /// Text through its bytes (`CAST(… AS BINARY)`): case-, accent- and space-exact, in code
    /// point order, whatever the collation.
    fn ordered(&self, w: &mut SqlWriter, e: &Expr) -> Result<()> {
        if matches!(e.value_type(), Some(ValueType::Text)) {
            w.sql("CAST(");
            expr(w, e)?;
            w.sql(" AS BINARY)");
            Ok(())
        } else {
            expr(w, e)
        }
    }

    /// Text equality between a column and a column or value: the collation's equality
    /// first (a superset of byte equality, so an index on the column narrows the rows),
    /// then the bytes: `("c" = ? AND CAST("c" AS BINARY) = CAST(? AS BINARY))`.
    fn compare(&self, w: &mut SqlWriter, left: &Expr, op: CmpOp, right: &Expr) -> Result<()> {
        let simple = |e: &Expr| matches!(e, Expr::Column(_) | Expr::Value(_));
        let text = |e: &Expr| e.value_type() == Some(ValueType::Text);
        let indexed = matches!(left, Expr::Column(_)) || matches!(right, Expr::Column(_));
        if op != CmpOp::Eq
            || !(simple(left) && simple(right) && text(left) && text(right))
            || !indexed
        {
            ordered(w, left)?;
            w.sql(cmp_op(op));
            return ordered(w, right);
        }
        w.sql("(");
        expr(w, left)?;
        w.sql(" = ");
        expr(w, right)?;
        w.sql(" AND ");
        ordered(w, left)?;
        w.sql(" = ");
        ordered(w, right)?;
        w.sql(")");
        Ok(())
    }

    /// A list is one JSON array parameter read by `JSON_TABLE` (MySQL 8.0.4+, MariaDB
    /// 10.6+), so the statement's text does not depend on the list's length (prefetch binds
    /// its parents' keys so, and the driver's statement cache keeps one statement):
    ///
    /// - integers: `t IN (SELECT "_v"."v" FROM JSON_TABLE(?, '$[*]' COLUMNS ("v" BIGINT
    ///   PATH '$')) AS "_v")`;
    /// - text: `(t, CAST(t AS BINARY)) IN (SELECT "_v"."v", CAST("_v"."v" AS BINARY) FROM
    ///   JSON_TABLE(?, '$[*]' COLUMNS ("v" LONGTEXT CHARACTER SET utf8mb4 COLLATE
    ///   utf8mb4_bin PATH '$')) AS "_v")`: the text (an index on the column finds the rows)
    ///   and its UTF-8 bytes (case-, accent- and space-exact whatever the column's
    ///   collation, as [`SqlHooks::compare`]). The list's column is `utf8mb4_bin`: of two
    ///   implicit collations of one character set the binary one wins, so it compares with a
    ///   column in any utf8mb4 collation (with the server's default collation, a column in
    ///   another one would be error 1267).
    ///
    /// A `NULL` in the list is JSON `null`, a `NULL` row of the table, so the `IN` is `NULL`
    /// (not false) when nothing matches, as on the other backends. Other lists, and lists in
    /// DDL, are the walk's explicit list.
    fn in_list(
        &self,
        w: &mut SqlWriter,
        target: &Expr,
        values: &[Value],
        elem: &ValueType,
    ) -> Result<bool> {
        if w.is_ddl() {
            return Ok(false);
        }
        let as_json = |list: serde_json::Value| {
            serde_json::to_string(&list)
                .map_err(|e| Error::InvalidQuery(format!("a list as JSON: {e}")))
        };
        let mut items = Vec::with_capacity(values.len());
        match elem {
            ValueType::I32 | ValueType::I64 => {
                for v in values {
                    items.push(match v {
                        Value::I32(n) => serde_json::Value::from(*n),
                        Value::I64(n) => serde_json::Value::from(*n),
                        Value::Null(_) => serde_json::Value::Null,
                        _ => return Ok(false),
                    });
                }
                expr(w, target)?;
                w.sql(" IN (SELECT \"_v\".\"v\" FROM JSON_TABLE(");
                w.bind(Value::Text(as_json(serde_json::Value::Array(items))?));
                w.sql(", '$[*]' COLUMNS (\"v\" BIGINT PATH '$')) AS \"_v\")");
                Ok(true)
            }
            ValueType::Text => {
                for v in values {
                    items.push(match v {
                        Value::Text(s) => serde_json::Value::String(s.clone()),
                        Value::Null(_) => serde_json::Value::Null,
                        _ => return Ok(false),
                    });
                }
                // The pair (text, its bytes): the first lets an index on the column find the
                // rows, the second makes the match byte-exact (`utf8mb4_bin` pads).
                w.sql("(");
                expr(w, target)?;
                w.sql(", CAST(");
                expr(w, target)?;
                w.sql(
                    " AS BINARY)) IN (SELECT \"_v\".\"v\", CAST(\"_v\".\"v\" AS BINARY) FROM \
                     JSON_TABLE(",
                );
                w.bind(Value::Text(as_json(serde_json::Value::Array(items))?));
                w.sql(
                    ", '$[*]' COLUMNS (\"v\" LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin \
                     PATH '$')) AS \"_v\")",
                );
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// NULLs sort first here: `e IS NULL` sorts them after every value (before, when
    /// descending), as on PostgreSQL.
    fn order_term(&self, w: &mut SqlWriter, e: &Expr, desc: bool) -> Result<()> {
        let dir = if desc { " DESC" } else { "" };
        w.sql("(");
        expr(w, e)?;
        w.sql(" IS NULL)");
        w.sql(dir);
        w.sql(", ");
        ordered(w, e)?;
        w.sql(dir);
        Ok(())
    }

    /// An output position cannot be tested for NULL: refused until compound selects are
    /// ordered through a derived table.
    fn order_position(&self, _w: &mut SqlWriter, _pos: usize, _desc: bool) -> Result<()> {
        Err(not_yet(
            "ordering a union/intersection/difference (NULLs would sort first)",
        ))
    }

    fn like_collation(&self) -> &'static str {
        " COLLATE utf8mb4_bin"
    }

    fn aggregate_filter(&self) -> bool {
        false
    }

    fn default_values(&self) -> &'static str {
        " () VALUES ()"
    }

    fn offset_without_limit(&self) -> &'static str {
        " LIMIT 18446744073709551615"
    }

    fn update_returning(&self) -> bool {
        false
    }

    fn bulk_update_joins(&self) -> bool {
        true
    }

    fn in_subquery_derived(&self) -> bool {
        true
    }

    /// The rows as a derived table of `SELECT ? AS "_k", [? AS "_k1", …] ? AS "_c0" UNION ALL SELECT ?, ?
    /// …`: its text depends on the number of rows (the driver's statement cache evicts it).
    fn bulk_update_rows(&self, w: &mut SqlWriter, b: &BulkUpdate) -> Result<()> {
        w.uncacheable();
        w.sql("(");
        for (r, row) in b.rows.iter().enumerate() {
            let keys = b.keys.len();
            if row.len() != b.columns.len() + keys {
                return Err(Error::InvalidQuery(format!(
                    "bulk update of {:?}: row {r} has {} values for {keys} key(s) and {} columns",
                    b.table,
                    row.len(),
                    b.columns.len()
                )));
            }
            w.sql(if r == 0 {
                "SELECT "
            } else {
                " UNION ALL SELECT "
            });
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    w.sql(", ");
                }
                w.bind(v.clone());
                if r == 0 {
                    w.sql(" AS ");
                    if i < keys {
                        w.ident(&BulkUpdate::key_alias(i))?;
                    } else {
                        w.ident(&format!("_c{}", i - keys))?;
                    }
                }
            }
        }
        w.sql(") AS \"_v\"");
        Ok(())
    }

    /// `ON DUPLICATE KEY UPDATE "c" = VALUES("c")` (both flavours accept `VALUES()`). MySQL
    /// checks every unique key of the table, not only the columns named. Ignoring conflicts
    /// (`do_nothing`) is refused in this stage.
    fn on_conflict(&self, w: &mut SqlWriter, c: &OnConflict) -> Result<()> {
        if c.update.is_empty() {
            // `INSERT IGNORE` would also pass over NOT NULL, foreign-key and length errors,
            // and a no-op `ON DUPLICATE KEY UPDATE` counts and returns the rows it skipped.
            return Err(not_yet("an upsert ignoring conflicting rows (do_nothing)"));
        }
        w.sql(" ON DUPLICATE KEY UPDATE ");
        for (i, col) in c.update.iter().enumerate() {
            if i > 0 {
                w.sql(", ");
            }
            w.ident(col)?;
            w.sql(" = VALUES(");
            w.ident(col)?;
            w.sql(")");
        }
        Ok(())
    }

    /// `FOR UPDATE [NOWAIT | SKIP LOCKED]`, `LOCK IN SHARE MODE` (both flavours); `OF`
    /// (MariaDB has none) and a share lock that does not wait are refused.
    fn row_lock(&self, w: &mut SqlWriter, lock: &RowLock) -> Result<()> {
        if !lock.of.is_empty() {
            return Err(not_yet("select_for_update(of=…)"));
        }
        match lock.strength {
            LockStrength::Update => w.sql(" FOR UPDATE"),
            LockStrength::Share if lock.wait == LockWait::Wait => {
                w.sql(" LOCK IN SHARE MODE");
                return Ok(());
            }
            LockStrength::Share => {
                return Err(not_yet("a share lock with nowait or skip_locked"));
            }
        }
        w.sql(match lock.wait {
            LockWait::Wait => "",
            LockWait::NoWait => " NOWAIT",
            LockWait::SkipLocked => " SKIP LOCKED",
        });
        Ok(())
    }

    /// `(?i)`/`(?-i)` in front of the pattern: both flavours' engines (PCRE, ICU) take the
    /// inline flag over the collation's case rule.
    fn regex(
        &self,
        w: &mut SqlWriter,
        target: &Expr,
        pattern: &str,
        case_insensitive: bool,
    ) -> Result<()> {
        expr(w, target)?;
        w.sql(" REGEXP ");
        let flag = if case_insensitive { "(?i)" } else { "(?-i)" };
        w.bind(Value::Text(format!("{flag}{pattern}")));
        Ok(())
    }

    /// `CHAR_LENGTH` (characters, a `BIGINT` already); `Now()` is `UTC_TIMESTAMP(6)`.
    fn scalar_func(&self, w: &mut SqlWriter, func: ScalarFunc, items: &[Expr]) -> Result<()> {
        match func {
            ScalarFunc::Length => standard::call(w, "CHAR_LENGTH", items),
            ScalarFunc::Now => {
                w.sql("UTC_TIMESTAMP(6)");
                Ok(())
            }
            _ => standard::scalar_func(w, func, items),
        }
    }

    /// Datetimes are stored as UTC already.
    fn date_of(&self, w: &mut SqlWriter, target: &Expr) -> Result<()> {
        w.sql("CAST(");
        expr(w, target)?;
        w.sql(" AS DATE)");
        Ok(())
    }

    /// `YEAR(…)`, `DAYOFWEEK(…)` (1 is Sunday, as promised) and so on.
    fn extract(
        &self,
        w: &mut SqlWriter,
        part: DatePart,
        target: &Expr,
        _ty: &ValueType,
    ) -> Result<()> {
        w.sql(match part {
            DatePart::Year => "YEAR(",
            DatePart::Month => "MONTH(",
            DatePart::Day => "DAYOFMONTH(",
            DatePart::WeekDay => "DAYOFWEEK(",
            DatePart::Hour => "HOUR(",
            DatePart::Minute => "MINUTE(",
            DatePart::Second => "SECOND(",
        });
        expr(w, target)?;
        w.sql(")");
        Ok(())
    }

    /// Integer division is `DIV` (truncating, as PostgreSQL's `/` on integers; MySQL's `/`
    /// would give a decimal). In decimal arithmetic a bound operand is cast to a `DECIMAL`
    /// of its own scale: a parameter's type is unknown when the statement is prepared, and
    /// the server would otherwise compute in `DOUBLE`.
    fn arith(
        &self,
        w: &mut SqlWriter,
        left: &Expr,
        op: ArithOp,
        right: &Expr,
        ty: Option<ValueType>,
    ) -> Result<()> {
        if op == ArithOp::Div && matches!(ty, Some(ValueType::I32 | ValueType::I64)) {
            w.sql("(");
            expr(w, left)?;
            w.sql(" DIV ");
            expr(w, right)?;
            w.sql(")");
            return Ok(());
        }
        if ty == Some(ValueType::Decimal) {
            w.sql("(");
            decimal_operand(w, left)?;
            w.sql(match op {
                ArithOp::Add => " + ",
                ArithOp::Sub => " - ",
                ArithOp::Mul => " * ",
                ArithOp::Div => " / ",
            });
            decimal_operand(w, right)?;
            w.sql(")");
            return Ok(());
        }
        standard::arith(w, left, op, right)
    }

    /// The path a bound `$."a"[0]."b"` text for `JSON_EXTRACT`; the JSON type read with
    /// `JSON_TYPE` and named as PostgreSQL's `jsonb_typeof` names it.
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
            } else if k.contains(['"', '\\']) {
                return Err(Error::InvalidQuery(format!(
                    "JSON key {k:?}: quotes and backslashes in keys are not supported on MySQL/MariaDB"
                )));
            } else {
                p.push_str(".\"");
                p.push_str(k);
                p.push('"');
            }
        }
        let extracted = |w: &mut SqlWriter| -> Result<()> {
            w.sql("JSON_EXTRACT(");
            expr(w, target)?;
            w.sql(", ");
            w.bind(Value::Text(p.clone()));
            w.sql(")");
            Ok(())
        };
        let type_of = |w: &mut SqlWriter| -> Result<()> {
            w.sql("JSON_TYPE(");
            extracted(w)?;
            w.sql(")");
            Ok(())
        };
        const NUMBER: &str = " IN ('INTEGER', 'UNSIGNED INTEGER', 'DOUBLE', 'DECIMAL')";
        w.sql("CASE WHEN ");
        type_of(w)?;
        match extract {
            JsonAs::TypeName => {
                for (mine, pg) in [
                    ("OBJECT", "object"),
                    ("ARRAY", "array"),
                    ("STRING", "string"),
                    ("BOOLEAN", "boolean"),
                    ("NULL", "null"),
                ] {
                    w.sql(" = '");
                    w.sql(mine);
                    w.sql("' THEN '");
                    w.sql(pg);
                    w.sql("' WHEN ");
                    type_of(w)?;
                }
                w.sql(NUMBER);
                w.sql(" THEN 'number' END");
            }
            JsonAs::Text => {
                w.sql(" = 'STRING' THEN JSON_UNQUOTE(");
                extracted(w)?;
                w.sql(") END");
            }
            JsonAs::Number => {
                w.sql(NUMBER);
                w.sql(" THEN CAST(JSON_UNQUOTE(");
                extracted(w)?;
                w.sql(") AS DOUBLE) END");
            }
            JsonAs::Bool => {
                w.sql(" = 'BOOLEAN' THEN JSON_UNQUOTE(");
                extracted(w)?;
                w.sql(") = 'true' END");
            }
        }
        Ok(())
    }

    /// Key tests of a JSON object (`has_keys`, `has_any_keys`): `JSON_CONTAINS_PATH` over
    /// one bound `$."key"` path per key (the text depends on how many). Containment and
    /// arrays are refused: MySQL's `JSON_CONTAINS` matches inside nested arrays where
    /// PostgreSQL's `@>` does not.
    fn contain(
        &self,
        w: &mut SqlWriter,
        op: ContainOp,
        left: &Expr,
        right: &Expr,
        of: ContainOf,
    ) -> Result<()> {
        let keys = match (of, op, right) {
            (
                ContainOf::Json,
                ContainOp::HasAllKeys | ContainOp::HasAnyKeys,
                Expr::Value(Value::Array(ArrayValue::Text(keys))),
            ) => keys,
            (ContainOf::Json, _, _) => {
                return Err(not_yet(
                    "JSON containment (contains, contained_by; PostgreSQL's @> rules)",
                ))
            }
            _ => return Err(no_arrays()),
        };
        let mut paths = Vec::with_capacity(keys.len());
        for k in keys {
            match k {
                Some(k) if !k.contains(['"', '\\']) => paths.push(format!("$.\"{k}\"")),
                other => {
                    return Err(Error::InvalidQuery(format!(
                        "JSON key {other:?}: not supported on MySQL/MariaDB"
                    )))
                }
            }
        }
        if paths.is_empty() {
            w.sql(if op == ContainOp::HasAllKeys {
                "("
            } else {
                "FALSE"
            });
            if op == ContainOp::HasAllKeys {
                w.sql("JSON_TYPE(");
                expr(w, left)?;
                w.sql(") = 'OBJECT')");
            }
            return Ok(());
        }
        w.uncacheable();
        w.sql("(JSON_TYPE(");
        expr(w, left)?;
        w.sql(") = 'OBJECT' AND JSON_CONTAINS_PATH(");
        expr(w, left)?;
        w.sql(if op == ContainOp::HasAllKeys {
            ", 'all'"
        } else {
            ", 'one'"
        });
        for p in paths {
            w.sql(", ");
            w.bind(Value::Text(p));
        }
        w.sql("))");
        Ok(())
    }

    fn array_len(&self, _w: &mut SqlWriter, _target: &Expr) -> Result<()> {
        Err(no_arrays())
    }

    fn array_index(&self, _w: &mut SqlWriter, _target: &Expr, _index: u32) -> Result<()> {
        Err(no_arrays())
    }

    fn cast_type(&self, ty: &ValueType) -> Option<&'static str> {
        Some(match ty {
            ValueType::I32 | ValueType::I64 => "SIGNED",
            ValueType::F64 => "DOUBLE",
            ValueType::Decimal => "DECIMAL(65, 30)",
            ValueType::Text => "CHAR",
            _ => return None,
        })
    }

    /// [`standard::cast`] truncating with `TRUNCATE(…, 0)` (MySQL has no `TRUNC`).
    fn cast(&self, w: &mut SqlWriter, e: &Expr, ty: &ValueType, target: &str) -> Result<()> {
        standard::cast(w, e, ty, target, ("TRUNCATE(", ", 0)"))
    }

    /// [`standard::typed_aggregate`] in MySQL's types (`SUM` of integers is a decimal here,
    /// cast back to `SIGNED`; the session's `div_precision_increment` keeps 20 places in a
    /// decimal quotient); `MIN`/`MAX` of text by bytes.
    fn aggregate(&self, w: &mut SqlWriter, a: &Aggregate) -> Result<()> {
        const TYPES: standard::AggregateTypes = standard::AggregateTypes {
            integer: "SIGNED",
            double: "DOUBLE",
            decimal_sum: None,
        };
        let arg_ty = a.arg.as_ref().and_then(Expr::value_type);
        // By bytes (code points), whatever the collation, read back as text.
        if matches!(a.func, AggFunc::Min | AggFunc::Max) && arg_ty == Some(ValueType::Text) {
            w.sql("CONVERT(");
            let name = if a.func == AggFunc::Min { "MIN" } else { "MAX" };
            standard::agg_call_with(w, name, a, ordered)?;
            w.sql(" USING utf8mb4)");
            return Ok(());
        }
        if standard::typed_aggregate(w, a, &TYPES)? {
            return Ok(());
        }
        standard::aggregate(w, a)
    }

    fn column_type(&self, ty: &FieldType) -> String {
        super::types::column_type(ty)
    }

    fn keyed_column_type(&self, ty: &FieldType) -> String {
        super::types::keyed_column_type(ty)
    }

    fn auto_primary_key(&self, ty: &FieldType) -> &'static str {
        match ty {
            FieldType::Integer => "INTEGER AUTO_INCREMENT PRIMARY KEY",
            _ => "BIGINT AUTO_INCREMENT PRIMARY KEY",
        }
    }

    fn now_default(&self, ty: &FieldType) -> &'static str {
        match ty {
            FieldType::Date => "(CURRENT_DATE)",
            _ => "CURRENT_TIMESTAMP(6)",
        }
    }

    fn default_literal(&self, v: &Value) -> String {
        super::types::default_literal(v)
    }

    fn table_level_constraints(&self) -> bool {
        true
    }

    /// InnoDB (transactions, foreign keys), full UTF-8, and a binary collation: text in
    /// tables Chakra creates groups, sorts and is unique case- and accent-exactly, as on
    /// PostgreSQL (`utf8mb4_bin` pads: `'a'` and `'a '` are one unique key).
    fn create_table_suffix(&self) -> &'static str {
        " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
    }
}
