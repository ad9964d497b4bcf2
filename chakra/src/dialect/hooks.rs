//! [`SqlHooks`]: what differs between dialects in the SQL the compilers write, as small
//! methods whose default body is the standard-SQL form; each dialect's room implements it
//! for its unit type and overrides only where it differs. [`Dialect::sql`] hands out the
//! `&'static` implementation, so a call costs one indirect call and allocates nothing.

use super::{mysql, postgres, sqlite, standard, Dialect};
use crate::sql::expression::expr;
use crate::sql::writer::SqlWriter;
use chakra_dsl::ir::{ContainOf, ContainOp};
use chakra_dsl::{
    Aggregate, ArithOp, BulkUpdate, CmpOp, ColumnRef, DatePart, Error, Expr, FieldType, JsonAs,
    OnConflict, Result, RowLock, ScalarFunc, Value, ValueType,
};

/// The named error of a hook a dialect (its [`SqlHooks::title`]) has no form for.
pub fn unsupported(title: &str, what: &str) -> Error {
    Error::InvalidQuery(format!("{what}: not supported on {title}"))
}

/// The per-dialect hooks of the SQL compilers (`crate::sql`).
pub trait SqlHooks: Sync {
    /// The database's name as written in messages (`SQLite`, `PostgreSQL`).
    fn title(&self) -> &'static str;

    /// Appends the placeholder of bind `n` (1-based) to `out`: `?` in standard SQL.
    fn placeholder(&self, out: &mut String, n: usize) {
        let _ = n;
        out.push('?');
    }

    /// The most bind parameters one statement may carry.
    fn max_binds(&self) -> usize;

    /// A canonical value in the form this backend stores and binds it: unchanged by default.
    fn to_storage(&self, v: Value) -> Value {
        v
    }

    /// A boolean as an SQL literal (DDL takes no parameters): `TRUE`/`FALSE`.
    fn bool_literal(&self, b: bool) -> &'static str {
        if b {
            "TRUE"
        } else {
            "FALSE"
        }
    }

    /// Whether the members of a compound select (`UNION`, …) are written in parentheses
    /// (and the left side nested, so `INTERSECT` binds as written): true in standard SQL.
    fn parenthesised_compound_members(&self) -> bool {
        true
    }

    /// What follows an enum column read in a query (not in DDL) so it reads, compares and
    /// sorts as its text: PostgreSQL's native enums take `::text`; nothing by default.
    fn enum_as_text(&self) -> &'static str {
        ""
    }

    /// Whether an `Enum` field is a native enum type (one type per enum name, created before
    /// the tables using it): no by default, the column is text held to its values by a CHECK.
    fn native_enums(&self) -> bool {
        false
    }

    /// A value written to a column of the enum type `ty` (an array of them when `array`: a
    /// multi-row insert's column), `inner` writing the value: the value itself by default (a
    /// text column takes text); cast to the type where enums are native.
    fn enum_value(
        &self,
        w: &mut SqlWriter,
        ty: &str,
        array: bool,
        inner: &mut dyn FnMut(&mut SqlWriter) -> Result<()>,
    ) -> Result<()> {
        let _ = (ty, array);
        inner(w)
    }

    /// `column = value` for a column of the enum type `ty` (read as its text elsewhere), in a
    /// form that matches the stored text as `column::text = value` does (an unknown value
    /// matches nothing, never an error) while an index on the column can be used; `Ok(false)`
    /// (nothing written) where the text comparison is all there is.
    fn enum_equals(
        &self,
        w: &mut SqlWriter,
        column: &ColumnRef,
        ty: &str,
        value: &Value,
    ) -> Result<bool> {
        let _ = (w, column, ty, value);
        Ok(false)
    }

    /// DDL: the statement creating the enum type `name` with `values` before the tables using
    /// it, leaving an existing type with the same values alone (tables created one at a time
    /// share it) and refusing one with other values; `None` where enums are not native.
    fn create_enum_type(&self, name: &str, values: &[String]) -> Result<Option<String>> {
        let _ = (name, values);
        Ok(None)
    }

    /// DDL: the statement dropping the enum type `name` once no column uses it any more (left
    /// alone while another table's column does), `None` where enums are not native.
    fn drop_enum_type_if_unused(&self, name: &str) -> Result<Option<String>> {
        let _ = name;
        Ok(None)
    }

    /// The function folding text to lower case the same way on every backend
    /// (`sql/case_fold.rs`): `LOWER`.
    fn lower_fn(&self) -> &'static str {
        "LOWER"
    }

    /// `e` written as an ordered value (compared, sorted, aggregated as a number or an
    /// instant): itself by default.
    fn ordered(&self, w: &mut SqlWriter, e: &Expr) -> Result<()> {
        expr(w, e)
    }

    /// `left op right`, both written as ordered values ([`SqlHooks::ordered`]).
    fn compare(&self, w: &mut SqlWriter, left: &Expr, op: CmpOp, right: &Expr) -> Result<()> {
        crate::sql::expression::ordered(w, left)?;
        w.sql(crate::sql::expression::cmp_op(op));
        crate::sql::expression::ordered(w, right)
    }

    /// `target` matching the regular expression `pattern` (bound): no standard form, so
    /// refused by default.
    fn regex(
        &self,
        w: &mut SqlWriter,
        target: &Expr,
        pattern: &str,
        case_insensitive: bool,
    ) -> Result<()> {
        let _ = (w, target, pattern, case_insensitive);
        Err(unsupported(self.title(), "regular expression lookups"))
    }

    /// A scalar function: [`standard::scalar_func`] by default.
    fn scalar_func(&self, w: &mut SqlWriter, func: ScalarFunc, items: &[Expr]) -> Result<()> {
        standard::scalar_func(w, func, items)
    }

    /// The date of a date or datetime (UTC): `CAST(… AS DATE)`, a datetime at UTC.
    fn date_of(&self, w: &mut SqlWriter, target: &Expr) -> Result<()> {
        w.sql("CAST(");
        expr(w, target)?;
        if matches!(target.value_type(), Some(ValueType::DateTime)) {
            w.sql(" AT TIME ZONE 'UTC'");
        }
        w.sql(" AS DATE)");
        Ok(())
    }

    /// A date part (already checked to apply to a `Date`/`DateTime` of type `ty`), as a
    /// `BIGINT`; the week day counts from 1 (Sunday).
    fn extract(
        &self,
        w: &mut SqlWriter,
        part: DatePart,
        target: &Expr,
        ty: &ValueType,
    ) -> Result<()> {
        let field = match part {
            DatePart::Year => "YEAR",
            DatePart::Month => "MONTH",
            DatePart::Day => "DAY",
            DatePart::WeekDay => "DOW",
            DatePart::Hour => "HOUR",
            DatePart::Minute => "MINUTE",
            DatePart::Second => "SECOND",
        };
        w.sql("CAST(FLOOR(EXTRACT(");
        w.sql(field);
        w.sql(" FROM ");
        expr(w, target)?;
        if *ty == ValueType::DateTime {
            w.sql(" AT TIME ZONE 'UTC'");
        }
        w.sql("))");
        if part == DatePart::WeekDay {
            w.sql(" + 1");
        }
        w.sql(" AS BIGINT)");
        Ok(())
    }

    /// Arithmetic whose result has type `ty`: [`standard::arith`] by default.
    fn arith(
        &self,
        w: &mut SqlWriter,
        left: &Expr,
        op: ArithOp,
        right: &Expr,
        ty: Option<ValueType>,
    ) -> Result<()> {
        let _ = ty;
        standard::arith(w, left, op, right)
    }

    /// An array's length as a `BIGINT`: `CAST(cardinality(…) AS BIGINT)`.
    fn array_len(&self, w: &mut SqlWriter, target: &Expr) -> Result<()> {
        w.sql("CAST(cardinality(");
        expr(w, target)?;
        w.sql(") AS BIGINT)");
        Ok(())
    }

    /// An array's element at `index` (from 0; part of the query's shape, not data):
    /// `(…)[index + 1]`.
    fn array_index(&self, w: &mut SqlWriter, target: &Expr, index: u32) -> Result<()> {
        w.sql("(");
        expr(w, target)?;
        w.sql(&format!(")[{}]", u64::from(index) + 1));
        Ok(())
    }

    /// Containment and key tests of arrays and JSON, the right side one bound value: no
    /// standard form, so refused by default.
    fn contain(
        &self,
        w: &mut SqlWriter,
        op: ContainOp,
        left: &Expr,
        right: &Expr,
        of: ContainOf,
    ) -> Result<()> {
        let _ = (w, op, left, right, of);
        Err(unsupported(self.title(), "array and JSON containment"))
    }

    /// A value inside a JSON document, extracted only when it has the JSON type asked for:
    /// no standard form, so refused by default.
    fn json_path(
        &self,
        w: &mut SqlWriter,
        target: &Expr,
        path: &[String],
        extract: JsonAs,
    ) -> Result<()> {
        let _ = (w, target, path, extract);
        Err(unsupported(self.title(), "JSON path lookups"))
    }

    /// The type name of `CAST(… AS …)` to `ty`, `None` when it cannot be cast to.
    fn cast_type(&self, ty: &ValueType) -> Option<&'static str> {
        Some(match ty {
            ValueType::I32 => "INTEGER",
            ValueType::I64 => "BIGINT",
            ValueType::F64 => "DOUBLE PRECISION",
            ValueType::Decimal => "NUMERIC",
            ValueType::Text => "TEXT",
            _ => return None,
        })
    }

    /// `CAST(e AS ty)` (`ty` has a [`SqlHooks::cast_type`]), a float or decimal cast to an
    /// integer truncated toward zero (standard SQL's cast rounds).
    fn cast(&self, w: &mut SqlWriter, e: &Expr, ty: &ValueType, target: &str) -> Result<()> {
        standard::cast(w, e, ty, target, ("TRUNC(", ")"))
    }

    /// An aggregate (not `COUNT`, which is the same everywhere), with the same result type
    /// and value on every backend: [`standard::aggregate`] by default.
    fn aggregate(&self, w: &mut SqlWriter, a: &Aggregate) -> Result<()> {
        standard::aggregate(w, a)
    }

    /// `target IN (values)` (at least one value, of element type `elem`) with SQL text that
    /// does not depend on the number of values; `Ok(false)` (nothing written) when the
    /// dialect has no such form for them, and the walk writes an explicit list.
    fn in_list(
        &self,
        w: &mut SqlWriter,
        target: &Expr,
        values: &[Value],
        elem: &ValueType,
    ) -> Result<bool> {
        let _ = (w, target, values, elem);
        Ok(false)
    }

    /// What follows an ordering term so NULLs sort as larger than any value (PostgreSQL's
    /// default): nothing by default.
    fn nulls_order(&self, desc: bool) -> &'static str {
        let _ = desc;
        ""
    }

    /// One `ORDER BY` term: `e` as an ordered value, ` DESC` when descending, then
    /// [`SqlHooks::nulls_order`] (NULLs larger than any value).
    fn order_term(&self, w: &mut SqlWriter, e: &Expr, desc: bool) -> Result<()> {
        crate::sql::expression::ordered(w, e)?;
        if desc {
            w.sql(" DESC");
        }
        w.sql(self.nulls_order(desc));
        Ok(())
    }

    /// One `ORDER BY` term of a compound select, an output column's position (1-based).
    fn order_position(&self, w: &mut SqlWriter, pos: usize, desc: bool) -> Result<()> {
        w.sql(&pos.to_string());
        if desc {
            w.sql(" DESC");
        }
        w.sql(self.nulls_order(desc));
        Ok(())
    }

    /// What follows `LIKE <pattern>` so the match is case- and accent-sensitive whatever
    /// the column's collation: nothing by default (the comparison is binary already).
    fn like_collation(&self) -> &'static str {
        ""
    }

    /// Whether an aggregate takes `FILTER (WHERE …)`: yes by default; otherwise the
    /// argument is written `CASE WHEN … THEN arg END`.
    fn aggregate_filter(&self) -> bool {
        true
    }

    /// What follows `INSERT INTO "t"` for a row of defaults only: ` DEFAULT VALUES`.
    fn default_values(&self) -> &'static str {
        " DEFAULT VALUES"
    }

    /// What an insert does with a conflicting row: [`standard::on_conflict`] (`ON CONFLICT
    /// …`) by default.
    fn on_conflict(&self, w: &mut SqlWriter, c: &OnConflict) -> Result<()> {
        standard::on_conflict(w, c)
    }

    /// The row lock after a select: [`standard::row_lock`] (`FOR UPDATE [OF …] [NOWAIT |
    /// SKIP LOCKED]`) by default.
    fn row_lock(&self, w: &mut SqlWriter, lock: &RowLock) -> Result<()> {
        standard::row_lock(w, lock)
    }

    /// Whether `UPDATE … RETURNING` exists: yes by default.
    fn update_returning(&self) -> bool {
        true
    }

    /// DDL: the column type of a keyed field (primary key, unique, indexed, referenced):
    /// [`SqlHooks::column_type`] by default.
    fn keyed_column_type(&self, ty: &FieldType) -> String {
        self.column_type(ty)
    }

    /// DDL: whether named `UNIQUE`, `CHECK` and `FOREIGN KEY` constraints are written at
    /// the table's level rather than in their column's definition: no by default.
    fn table_level_constraints(&self) -> bool {
        false
    }

    /// DDL: what follows `CREATE TABLE "t" (…)`: nothing by default.
    fn create_table_suffix(&self) -> &'static str {
        ""
    }

    /// Writes ` LIMIT <n>`, `n` bound: ` LIMIT $n` by default.
    fn limit(&self, w: &mut SqlWriter, n: i64) {
        w.sql(" LIMIT ");
        w.bind(Value::I64(n));
    }

    /// What an `OFFSET` without a `LIMIT` needs before it: nothing by default.
    fn offset_without_limit(&self) -> &'static str {
        ""
    }

    /// Whether the dialect has `SELECT DISTINCT ON (…)`: no by default.
    fn distinct_on(&self) -> bool {
        false
    }

    /// Whether `FOR UPDATE`/`FOR SHARE` row locks are written: yes by default (false where
    /// the transaction already serialises writers).
    fn row_locks(&self) -> bool {
        true
    }

    /// Whether a multi-row insert binds one array per column (`unnest`), so its text does
    /// not depend on the number of rows: no by default.
    fn insert_column_arrays(&self) -> bool {
        false
    }

    /// The rows of a bulk update as a source of its `UPDATE … FROM`: a derived table
    /// aliased `"_v"` whose columns are the keys ([`BulkUpdate::key_alias`]: `"_k"`, then
    /// `"_k1"`… for a composite key, `rows[…][..keys]`) and `"_c0"`, `"_c1"`, … (the new
    /// values, `rows[…][keys + i]`), with SQL text that does not depend on the
    /// number of rows. No standard form, so refused by default.
    fn bulk_update_rows(&self, w: &mut SqlWriter, b: &BulkUpdate) -> Result<()> {
        let _ = w;
        Err(unsupported(
            self.title(),
            &format!("bulk update of {:?}", b.table),
        ))
    }

    /// Whether `x IN (subquery)` reads its subquery through a derived table (`IN (SELECT *
    /// FROM (…) AS "_in")`): MySQL refuses `LIMIT` in an `IN` subquery (error 1235) and a
    /// subquery on the table an `UPDATE`/`DELETE` writes (1093). No by default.
    fn in_subquery_derived(&self) -> bool {
        false
    }

    /// Whether a bulk update joins its rows (`UPDATE t INNER JOIN (rows) AS "_v" ON … SET
    /// …`, MySQL's form) rather than reading them `FROM` (standard `UPDATE … FROM`): no by
    /// default.
    fn bulk_update_joins(&self) -> bool {
        false
    }

    /// DDL: the column type of a field (the dialect's type table).
    fn column_type(&self, ty: &FieldType) -> String;

    /// DDL: the column of an auto-increment primary key of type `ty`, with its key.
    fn auto_primary_key(&self, ty: &FieldType) -> &'static str;

    /// DDL: the default of a `now()` field of type `ty`: `CURRENT_DATE` or
    /// `CURRENT_TIMESTAMP`.
    fn now_default(&self, ty: &FieldType) -> &'static str {
        match ty {
            FieldType::Date => "CURRENT_DATE",
            _ => "CURRENT_TIMESTAMP",
        }
    }

    /// DDL: a constant as literal text for a `DEFAULT` clause (DDL takes no parameters).
    fn default_literal(&self, v: &Value) -> String;

    /// DDL: whether a foreign key to a table created later must be added afterwards (`ALTER
    /// TABLE … ADD CONSTRAINT`): yes by default (false where references are checked only
    /// when rows are written).
    fn defers_forward_references(&self) -> bool {
        true
    }

    /// DDL: what follows `DROP TABLE IF EXISTS "t"` so reference cycles drop too: nothing by
    /// default.
    fn drop_table_suffix(&self) -> &'static str {
        ""
    }

    /// Whether sorting the stored column of type `ty` directly would not order its values
    /// (SQLite's text decimals and datetimes): false by default.
    fn stored_order_differs(&self, ty: &ValueType) -> bool {
        let _ = ty;
        false
    }
}

impl Dialect {
    /// The dialect's SQL hooks (a `&'static` table: no allocation per call).
    #[inline]
    pub fn sql(self) -> &'static dyn SqlHooks {
        match self {
            Dialect::Postgres => &postgres::Postgres,
            Dialect::Sqlite => &sqlite::Sqlite,
            Dialect::Mysql => &mysql::Mysql,
        }
    }
}
