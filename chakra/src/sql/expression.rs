//! Compiling [`Expr`] to SQL, per dialect.

use super::filter_values;
use super::sqlite_values::scalar_to_json;
use super::statement::select;
use super::writer::SqlWriter;
use super::Dialect;
use chakra_dsl::ir::{ContainOf, ContainOp};
use chakra_dsl::{
    AggFunc, Aggregate, ArithOp, ArrayValue, CmpOp, ColumnRef, DatePart, Error, Expr, JsonAs,
    LikeKind, Result, ScalarFunc, Value, ValueType,
};

/// Escapes LIKE wildcards and the escape character so `text` matches literally.
pub fn escape_like(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// The LIKE pattern for `text` anchored as `kind`.
pub fn like_pattern(kind: LikeKind, text: &str) -> String {
    match kind {
        LikeKind::Raw => text.to_owned(),
        LikeKind::Exact => escape_like(text),
        LikeKind::Contains => format!("%{}%", escape_like(text)),
        LikeKind::StartsWith => format!("{}%", escape_like(text)),
        LikeKind::EndsWith => format!("%{}", escape_like(text)),
    }
}

/// A column reference. On PostgreSQL an enum column read in a query is read as its text
/// (`"t"."status"::text`): it compares, sorts, aggregates and decodes as the stored text on
/// both backends, as an `Enum` field is specified (Django's text column with choices), and
/// text binds meet it without a cast. DDL (index predicates, checks) names the bare column.
fn column(w: &mut SqlWriter, c: &ColumnRef) -> Result<()> {
    if let (Some(t), false) = (&c.table, w.is_ddl()) {
        w.ident(t)?;
        w.sql(".");
    }
    w.ident(&c.column)?;
    if w.dialect == Dialect::Postgres && c.enum_type.is_some() && !w.is_ddl() {
        w.sql("::text");
    }
    Ok(())
}

fn is_decimal(e: &Expr) -> bool {
    matches!(e.value_type(), Some(ValueType::Decimal))
}

/// Writes `e` for use as an ordered value: on SQLite decimals are stored as text, so
/// comparisons and sorting go through their numeric value, and a datetime column through
/// `chakra_datetime` (`sql/sqlite_datetime.rs`), so forms other writers store compare as the
/// instants they name.
pub fn ordered(w: &mut SqlWriter, e: &Expr) -> Result<()> {
    if w.dialect == Dialect::Sqlite && matches!(e, Expr::Column(c) if c.ty == ValueType::DateTime) {
        w.sql("chakra_datetime(");
        expr(w, e)?;
        w.sql(")");
        Ok(())
    } else if w.dialect == Dialect::Sqlite && is_decimal(e) {
        w.sql("CAST(");
        expr(w, e)?;
        w.sql(" AS REAL)");
        Ok(())
    } else {
        expr(w, e)
    }
}

fn paren(w: &mut SqlWriter, e: &Expr) -> Result<()> {
    w.sql("(");
    expr(w, e)?;
    w.sql(")");
    Ok(())
}

fn cmp_op(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => " = ",
        CmpOp::Ne => " <> ",
        CmpOp::Lt => " < ",
        CmpOp::Le => " <= ",
        CmpOp::Gt => " > ",
        CmpOp::Ge => " >= ",
    }
}

/// Compiles one expression, nested at most [`chakra_dsl::limits::MAX_DEPTH`] levels deep
/// (deeper is `InvalidQuery`, before the stack or the database's parser could overflow).
pub fn expr(w: &mut SqlWriter, e: &Expr) -> Result<()> {
    w.enter()?;
    // Debug builds spend kilobytes of stack per level: grow the stack on demand, so the
    // limit, not the thread's stack size, decides how deep an expression may be.
    let done = stacker::maybe_grow(64 * 1024, 1024 * 1024, || expr_at(w, e));
    w.leave();
    done
}

fn expr_at(w: &mut SqlWriter, e: &Expr) -> Result<()> {
    match e {
        Expr::Column(c) => column(w, c)?,
        Expr::Value(v) => {
            filter_values::check_value(e, v)?;
            w.bind(v.clone())
        }
        Expr::Bool(b) => w.sql(if *b { "TRUE" } else { "FALSE" }),
        Expr::Compare { left, op, right } => {
            for (side, other) in [(left, right), (right, left)] {
                if let Expr::Value(v) = other.as_ref() {
                    filter_values::check_value(side, v)?;
                }
            }
            ordered(w, left)?;
            w.sql(cmp_op(*op));
            ordered(w, right)?;
        }
        Expr::Like {
            expr: target,
            text,
            kind,
            case_insensitive,
        } => {
            filter_values::check_text(target, text)?;
            like(w, target, text, *kind, *case_insensitive)?
        }
        Expr::Regex {
            expr: target,
            pattern,
            case_insensitive,
        } => {
            filter_values::check_regex(target, pattern)?;
            match w.dialect {
                Dialect::Postgres => {
                    expr(w, target)?;
                    w.sql(if *case_insensitive { " ~* " } else { " ~ " });
                    w.bind(Value::Text(pattern.clone()));
                }
                Dialect::Sqlite => {
                    expr(w, target)?;
                    w.sql(" REGEXP ");
                    let p = if *case_insensitive {
                        format!("(?i){pattern}")
                    } else {
                        pattern.clone()
                    };
                    w.bind(Value::Text(p));
                }
            }
        }
        Expr::In {
            expr: target,
            values,
        } => {
            for v in values {
                filter_values::check_value(target, v)?;
            }
            in_list(w, target, values)?
        }
        Expr::InSubquery {
            expr: target,
            query,
        } => {
            expr(w, target)?;
            w.sql(" IN (");
            select(w, query)?;
            w.sql(")");
        }
        Expr::IsNull {
            expr: target,
            negated,
        } => {
            // A compound target (`a = b`, `x AND y`) needs parentheses: IS binds tighter
            // than AND/OR, and as tight as `=` on SQLite.
            match **target {
                Expr::Column(_) | Expr::Value(_) => expr(w, target)?,
                _ => paren(w, target)?,
            }
            w.sql(if *negated { " IS NOT NULL" } else { " IS NULL" });
        }
        Expr::Between {
            expr: target,
            low,
            high,
        } => {
            ordered(w, target)?;
            w.sql(" BETWEEN ");
            ordered(w, low)?;
            w.sql(" AND ");
            ordered(w, high)?;
        }
        Expr::And(items) => junction(w, items, " AND ", true)?,
        Expr::Or(items) => junction(w, items, " OR ", false)?,
        Expr::Not(inner) => {
            w.sql("NOT ");
            paren(w, inner)?;
        }
        Expr::Extract { part, expr: target } => extract(w, *part, target)?,
        Expr::DateOf(target) => match w.dialect {
            Dialect::Postgres => {
                w.sql("CAST(");
                expr(w, target)?;
                if matches!(target.value_type(), Some(ValueType::DateTime)) {
                    w.sql(" AT TIME ZONE 'UTC'");
                }
                w.sql(" AS DATE)");
            }
            Dialect::Sqlite => {
                // A datetime column through chakra_datetime: the UTC date, whatever form
                // (offset, separator) its writer used.
                w.sql("substr(");
                ordered(w, target)?;
                w.sql(", 1, 10)");
            }
        },
        Expr::Arith { left, op, right }
            if w.dialect == Dialect::Sqlite && e.value_type() == Some(ValueType::Decimal) =>
        {
            // Decimals are text on SQLite: exact arithmetic, never floating point; the
            // quotient rounded to the scale PostgreSQL's numeric division picks.
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
        }
        Expr::Arith { left, op, right } => {
            w.sql("(");
            expr(w, left)?;
            w.sql(match op {
                ArithOp::Add => " + ",
                ArithOp::Sub => " - ",
                ArithOp::Mul => " * ",
                ArithOp::Div => " / ",
            });
            expr(w, right)?;
            w.sql(")");
        }
        Expr::Exists(q) => {
            w.sql("EXISTS (");
            select(w, q)?;
            w.sql(")");
        }
        Expr::CountStar => w.sql("COUNT(*)"),
        Expr::Aggregate(a) => aggregate(w, a)?,
        Expr::Subquery(q) => {
            w.sql("(");
            select(w, q)?;
            w.sql(")");
        }
        Expr::Func { func, args, .. } => scalar_func(w, *func, args)?,
        Expr::Cast { expr: inner, ty } => cast(w, inner, ty)?,
        Expr::JsonPath {
            expr: target,
            path,
            extract,
        } => json_path(w, target, path, *extract)?,
        Expr::Contain {
            op,
            left,
            right,
            of,
        } => contain(w, *op, left, right, *of)?,
        Expr::OuterRef(name) => {
            return Err(Error::InvalidQuery(format!(
                "OuterRef({name:?}) refers to the query around a subquery, and this one is not \
                 inside one: use it in the queryset given to Exists(…) or Subquery(…)"
            )))
        }
        Expr::ArrayLen(target) => match w.dialect {
            Dialect::Postgres => {
                w.sql("CAST(cardinality(");
                expr(w, target)?;
                w.sql(") AS BIGINT)");
            }
            Dialect::Sqlite => {
                w.sql("json_array_length(");
                expr(w, target)?;
                w.sql(")");
            }
        },
        Expr::ArrayIndex {
            expr: target,
            index,
            ..
        } => match w.dialect {
            // The position is part of the query's shape (as a column is), not data.
            Dialect::Postgres => {
                w.sql("(");
                expr(w, target)?;
                w.sql(&format!(")[{}]", u64::from(*index) + 1));
            }
            Dialect::Sqlite => {
                w.sql("json_extract(");
                expr(w, target)?;
                w.sql(&format!(", '$[{index}]')"));
            }
        },
        Expr::Case { whens, default, .. } => {
            w.sql("CASE");
            for (c, v) in whens {
                w.sql(" WHEN ");
                expr(w, c)?;
                w.sql(" THEN ");
                expr(w, v)?;
            }
            if let Some(d) = default {
                w.sql(" ELSE ");
                expr(w, d)?;
            }
            w.sql(" END");
        }
    }
    Ok(())
}

/// Containment and key tests. PostgreSQL has operators for each; SQLite stores arrays and
/// JSON as JSON text, so arrays are walked with `json_each` (elements compared by value),
/// JSON containment is `chakra_json_contains` (PostgreSQL's `@>` rules, registered on each
/// connection), and keys are the object's top-level `json_each` keys. The right side is one
/// bound value either way, so the text never depends on its size.
fn contain(
    w: &mut SqlWriter,
    op: ContainOp,
    left: &Expr,
    right: &Expr,
    of: ContainOf,
) -> Result<()> {
    if w.dialect == Dialect::Postgres {
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
        return Ok(());
    }
    // SQLite.
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

fn args(w: &mut SqlWriter, items: &[Expr]) -> Result<()> {
    for (i, a) in items.iter().enumerate() {
        if i > 0 {
            w.sql(", ");
        }
        expr(w, a)?;
    }
    Ok(())
}

/// Scalar functions, with the same results on both backends: SQLite's own `lower`/`upper`
/// fold ASCII only, so the Unicode-aware `chakra_lower`/`chakra_upper` registered on each
/// connection stand in; `Now()` on SQLite is Chakra's fixed-width UTC timestamp text.
fn scalar_func(w: &mut SqlWriter, func: ScalarFunc, items: &[Expr]) -> Result<()> {
    let name = match (w.dialect, func) {
        (_, ScalarFunc::Coalesce) => "COALESCE(",
        (Dialect::Postgres, ScalarFunc::Lower) => "LOWER(",
        (Dialect::Postgres, ScalarFunc::Upper) => "UPPER(",
        (Dialect::Sqlite, ScalarFunc::Lower) => "chakra_lower(",
        (Dialect::Sqlite, ScalarFunc::Upper) => "chakra_upper(",
        (Dialect::Postgres, ScalarFunc::Length) => {
            w.sql("CAST(CHAR_LENGTH(");
            args(w, items)?;
            w.sql(") AS BIGINT)");
            return Ok(());
        }
        (Dialect::Sqlite, ScalarFunc::Length) => "LENGTH(",
        (Dialect::Postgres, ScalarFunc::Now) => {
            w.sql("CURRENT_TIMESTAMP");
            return Ok(());
        }
        (Dialect::Sqlite, ScalarFunc::Now) => {
            w.sql("strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')");
            return Ok(());
        }
    };
    w.sql(name);
    args(w, items)?;
    w.sql(")");
    Ok(())
}

/// A value inside a JSON document, extracted only when it has the JSON type asked for, so
/// `meta__n__gte=3` never compares the string `"3"`, on either backend. The path is a bound
/// parameter (a `text[]` for PostgreSQL's `#>`, a `$.a[0]."b"` path for SQLite's
/// `json_type`/`json_extract`).
fn json_path(w: &mut SqlWriter, target: &Expr, path: &[String], extract: JsonAs) -> Result<()> {
    match w.dialect {
        Dialect::Postgres => {
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
        }
        Dialect::Sqlite => {
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
        }
    }
    Ok(())
}

/// `CAST(e AS ty)`; a float cast to an integer truncates toward zero on both backends
/// (PostgreSQL would round).
fn cast(w: &mut SqlWriter, e: &Expr, ty: &ValueType) -> Result<()> {
    let from = e.value_type();
    let target = match (w.dialect, ty) {
        (Dialect::Postgres, ValueType::I32) => "INTEGER",
        (Dialect::Postgres, ValueType::I64) => "BIGINT",
        (Dialect::Postgres, ValueType::F64) => "DOUBLE PRECISION",
        (Dialect::Postgres, ValueType::Decimal) => "NUMERIC",
        (Dialect::Postgres, ValueType::Text) => "TEXT",
        (Dialect::Sqlite, ValueType::I32 | ValueType::I64) => "INTEGER",
        (Dialect::Sqlite, ValueType::F64) => "REAL",
        (Dialect::Sqlite, ValueType::Decimal | ValueType::Text) => "TEXT",
        (_, other) => {
            return Err(Error::InvalidQuery(format!("cannot cast to {other}")));
        }
    };
    let truncate = w.dialect == Dialect::Postgres
        && matches!(ty, ValueType::I32 | ValueType::I64)
        && matches!(from, Some(ValueType::F64 | ValueType::Decimal));
    w.sql("CAST(");
    if truncate {
        w.sql("TRUNC(");
    }
    if w.dialect == Dialect::Sqlite && from == Some(ValueType::Decimal) && ty != &ValueType::Text {
        // Decimal text to a number.
        ordered(w, e)?;
    } else {
        expr(w, e)?;
    }
    if truncate {
        w.sql(")");
    }
    w.sql(" AS ");
    w.sql(target);
    w.sql(")");
    Ok(())
}

/// `name([DISTINCT] arg) [FILTER (WHERE …)]`. Both backends take `FILTER` (SQLite since
/// 3.30; the bundled library is newer).
fn agg_call(w: &mut SqlWriter, name: &str, a: &Aggregate) -> Result<()> {
    agg_call_with(w, name, a, expr)
}

/// [`agg_call`] writing the argument with `arg` ([`ordered`] for a value compared as an
/// instant or a number).
fn agg_call_with(
    w: &mut SqlWriter,
    name: &str,
    a: &Aggregate,
    arg: fn(&mut SqlWriter, &Expr) -> Result<()>,
) -> Result<()> {
    w.sql(name);
    w.sql("(");
    if a.distinct {
        w.sql("DISTINCT ");
    }
    match &a.arg {
        Some(e) => arg(w, e)?,
        None => w.sql("*"),
    }
    w.sql(")");
    if let Some(f) = &a.filter {
        w.sql(" FILTER (WHERE ");
        expr(w, f)?;
        w.sql(")");
    }
    Ok(())
}

/// An aggregate, with the same result type and value on both backends:
/// - PostgreSQL's `SUM` of integers is `numeric` for `bigint`: cast back to `BIGINT`; its
///   `AVG` of integers is `numeric`: cast to `DOUBLE PRECISION` (as SQLite's `AVG`).
/// - `AVG` of a decimal is the exact sum over the count, rounded to 16 decimal places half
///   away from zero (PostgreSQL's own `AVG(numeric)` picks its scale from the magnitude).
/// - SQLite stores decimals as text: `SUM`/`AVG`/`MIN`/`MAX` of a decimal run through the
///   exact decimal aggregates registered on each connection (`chakra_decimal_*`,
///   `exec/sqlite_setup.rs`), never through floating point.
fn aggregate(w: &mut SqlWriter, a: &Aggregate) -> Result<()> {
    let arg_ty = a.arg.as_ref().and_then(Expr::value_type);
    let decimal = arg_ty == Some(ValueType::Decimal);
    let integer = matches!(arg_ty, Some(ValueType::I32 | ValueType::I64));
    match (w.dialect, a.func) {
        (_, AggFunc::Count) => agg_call(w, "COUNT", a),
        (Dialect::Postgres, AggFunc::Sum) if integer => {
            w.sql("CAST(");
            agg_call(w, "SUM", a)?;
            w.sql(" AS BIGINT)");
            Ok(())
        }
        (Dialect::Postgres, AggFunc::Avg) if decimal => {
            w.sql("ROUND(CAST(");
            agg_call(w, "SUM", a)?;
            w.sql(" AS NUMERIC(1000, 20)) / ");
            agg_call(w, "COUNT", a)?;
            w.sql(", 16)");
            Ok(())
        }
        (Dialect::Postgres, AggFunc::Avg) => {
            w.sql("CAST(");
            agg_call(w, "AVG", a)?;
            w.sql(" AS DOUBLE PRECISION)");
            Ok(())
        }
        (Dialect::Sqlite, f) if decimal => agg_call(
            w,
            match f {
                AggFunc::Sum => "chakra_decimal_sum",
                AggFunc::Avg => "chakra_decimal_avg",
                AggFunc::Min => "chakra_decimal_min",
                _ => "chakra_decimal_max",
            },
            a,
        ),
        (_, AggFunc::Sum) => agg_call(w, "SUM", a),
        (_, AggFunc::Avg) => agg_call(w, "AVG", a),
        // A datetime column's smallest/largest instant, whatever form its writer used.
        (Dialect::Sqlite, f @ (AggFunc::Min | AggFunc::Max)) if matches!(&a.arg, Some(Expr::Column(c)) if c.ty == ValueType::DateTime) => {
            agg_call_with(w, if f == AggFunc::Min { "MIN" } else { "MAX" }, a, ordered)
        }
        (_, AggFunc::Min) => agg_call(w, "MIN", a),
        (_, AggFunc::Max) => agg_call(w, "MAX", a),
    }
}

/// How many operands one AND/OR lists before they are grouped in parentheses: SQL parsers
/// nest `a AND b AND c …` one level per operand (SQLite refuses past 1,000 levels), so a long
/// list is written as balanced groups of at most this many.
const JUNCTION_GROUP: usize = 32;

fn junction(w: &mut SqlWriter, items: &[Expr], sep: &str, empty: bool) -> Result<()> {
    match items {
        [] => w.sql(if empty { "TRUE" } else { "FALSE" }),
        [one] => expr(w, one)?,
        many if many.len() > JUNCTION_GROUP => {
            // Balanced groups: the parser's depth grows with the logarithm of the length.
            let size = many.len().div_ceil(JUNCTION_GROUP).max(JUNCTION_GROUP);
            for (i, group) in many.chunks(size).enumerate() {
                if i > 0 {
                    w.sql(sep);
                }
                w.sql("(");
                junction(w, group, sep, empty)?;
                w.sql(")");
            }
        }
        many => {
            for (i, item) in many.iter().enumerate() {
                if i > 0 {
                    w.sql(sep);
                }
                paren(w, item)?;
            }
        }
    }
    Ok(())
}

fn like(
    w: &mut SqlWriter,
    target: &Expr,
    text: &str,
    kind: LikeKind,
    case_insensitive: bool,
) -> Result<()> {
    let pattern = like_pattern(kind, text);
    match (w.dialect, case_insensitive) {
        (Dialect::Postgres, false) => {
            expr(w, target)?;
            w.sql(" LIKE ");
            w.bind(Value::Text(pattern));
        }
        // Case-insensitive: both sides folded by one rule on both backends
        // (`sql/case_fold.rs`): per-character lower case, final sigma as sigma.
        (d, true) => {
            w.sql(if d == Dialect::Postgres {
                "REPLACE(LOWER("
            } else {
                "REPLACE(chakra_lower("
            });
            expr(w, target)?;
            w.sql("), 'ς', 'σ') LIKE ");
            w.bind(Value::Text(super::case_fold::fold(&pattern)));
        }
        (Dialect::Sqlite, false) => {
            expr(w, target)?;
            w.sql(" LIKE ");
            w.bind(Value::Text(pattern));
        }
    }
    w.sql(" ESCAPE '\\'");
    Ok(())
}

fn in_list(w: &mut SqlWriter, target: &Expr, values: &[Value]) -> Result<()> {
    if values.is_empty() {
        w.sql("FALSE");
        return Ok(());
    }
    let elem = target
        .value_type()
        .filter(|t| !matches!(t, ValueType::Bool))
        .unwrap_or_else(|| values[0].value_type());
    match w.dialect {
        Dialect::Postgres => {
            // One array parameter: the SQL text does not depend on the list's length, so the
            // prepared statement is reused (diesel's statement cache never evicts).
            if let Some(arr) = ArrayValue::from_values(&elem, values) {
                expr(w, target)?;
                w.sql(" = ANY(");
                w.bind(Value::Array(arr));
                w.sql(")");
                return Ok(());
            }
        }
        Dialect::Sqlite => {
            // One JSON parameter expanded by json_each: constant SQL text, no limit on the
            // number of values.
            if !matches!(
                elem,
                ValueType::Bytes | ValueType::Json | ValueType::Array(_)
            ) {
                let list = serde_json::Value::Array(values.iter().map(scalar_to_json).collect());
                ordered(w, target)?;
                w.sql(" IN (SELECT ");
                if elem == ValueType::Decimal {
                    w.sql("CAST(value AS REAL)");
                } else {
                    w.sql("value");
                }
                w.sql(" FROM json_each(");
                w.bind(Value::Text(list.to_string()));
                w.sql("))");
                return Ok(());
            }
        }
    }
    // Mixed or unusual types: an explicit list, which makes the SQL depend on the length.
    w.uncacheable();
    ordered(w, target)?;
    w.sql(" IN (");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            w.sql(", ");
        }
        ordered(w, &Expr::Value(v.clone()))?;
    }
    w.sql(")");
    Ok(())
}

fn extract(w: &mut SqlWriter, part: DatePart, target: &Expr) -> Result<()> {
    let ty = target.value_type();
    if !matches!(ty, Some(ValueType::DateTime) | Some(ValueType::Date)) {
        return Err(Error::InvalidQuery(format!(
            "date part {part:?} needs a DateTime or Date expression, got {}",
            ty.map(|t| t.to_string())
                .unwrap_or_else(|| "an untyped one".into())
        )));
    }
    match w.dialect {
        Dialect::Postgres => {
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
            if ty == Some(ValueType::DateTime) {
                w.sql(" AT TIME ZONE 'UTC'");
            }
            w.sql("))");
            if part == DatePart::WeekDay {
                w.sql(" + 1");
            }
            w.sql(" AS BIGINT)");
        }
        Dialect::Sqlite => {
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
        }
    }
    Ok(())
}
