//! Compiling [`Expr`] to SQL, per dialect.

use super::filter_values;
use super::statement::select;
use super::writer::SqlWriter;
use chakra_dsl::ir::{ContainOf, ContainOp};
use chakra_dsl::{
    AggFunc, Aggregate, CmpOp, ColumnRef, DatePart, Error, Expr, JsonAs, LikeKind, Result,
    ScalarFunc, Value, ValueType,
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
    if c.enum_type.is_some() && !w.is_ddl() {
        w.sql(w.dialect.sql().enum_as_text());
    }
    Ok(())
}

/// An enum column compared with a value (either side), as `(column, its enum type, value)`.
fn enum_and_value<'e>(a: &'e Expr, b: &'e Expr) -> Option<(&'e ColumnRef, &'e str, &'e Value)> {
    match (a, b) {
        (Expr::Column(c), Expr::Value(v)) | (Expr::Value(v), Expr::Column(c)) => {
            Some((c, c.enum_type.as_deref()?, v))
        }
        _ => None,
    }
}

/// Writes an enum column as the native value it holds (not read as its text): for
/// comparisons with a value cast to its type ([`crate::dialect::SqlHooks::enum_equals`]).
pub fn enum_column_bare(w: &mut SqlWriter, c: &ColumnRef) -> Result<()> {
    let bare = ColumnRef {
        enum_type: None,
        ..c.clone()
    };
    column(w, &bare)
}

/// Writes `e` for use as an ordered value ([`crate::dialect::SqlHooks::ordered`]: on SQLite
/// decimals are stored as text, so comparisons and sorting go through their numeric value,
/// and a datetime column through `chakra_datetime`, so forms other writers store compare as
/// the instants they name).
pub fn ordered(w: &mut SqlWriter, e: &Expr) -> Result<()> {
    w.dialect.sql().ordered(w, e)
}

fn paren(w: &mut SqlWriter, e: &Expr) -> Result<()> {
    w.sql("(");
    expr(w, e)?;
    w.sql(")");
    Ok(())
}

/// The SQL operator of a comparison, spaces around it.
pub(crate) fn cmp_op(op: CmpOp) -> &'static str {
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
            if let (CmpOp::Eq, Some((c, ty, v))) = (op, enum_and_value(left, right)) {
                if w.dialect.sql().enum_equals(w, c, ty, v)? {
                    return Ok(());
                }
            }
            w.dialect.sql().compare(w, left, *op, right)?;
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
            w.dialect
                .sql()
                .regex(w, target, pattern, *case_insensitive)?;
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
            // MySQL takes no LIMIT in an IN subquery, nor the table being updated: a
            // derived table lifts both (`SqlHooks::in_subquery_derived`).
            if w.dialect.sql().in_subquery_derived() {
                w.sql(" IN (SELECT * FROM (");
                select(w, query)?;
                w.sql(") AS \"_in\")");
            } else {
                w.sql(" IN (");
                select(w, query)?;
                w.sql(")");
            }
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
        Expr::DateOf(target) => w.dialect.sql().date_of(w, target)?,
        Expr::Arith { left, op, right } => {
            w.dialect.sql().arith(w, left, *op, right, e.value_type())?
        }
        Expr::Exists(q) => {
            w.sql("EXISTS (");
            select(w, q)?;
            w.sql(")");
        }
        Expr::Row(items) => {
            w.sql("(");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    w.sql(", ");
                }
                expr(w, item)?;
            }
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
        Expr::ArrayLen(target) => w.dialect.sql().array_len(w, target)?,
        // The position is part of the query's shape (as a column is), not data.
        Expr::ArrayIndex {
            expr: target,
            index,
            ..
        } => w.dialect.sql().array_index(w, target, *index)?,
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

/// Containment and key tests ([`crate::dialect::SqlHooks::contain`]). The right side is one
/// bound value on every dialect, so the text never depends on its size.
fn contain(
    w: &mut SqlWriter,
    op: ContainOp,
    left: &Expr,
    right: &Expr,
    of: ContainOf,
) -> Result<()> {
    w.dialect.sql().contain(w, op, left, right, of)
}

/// Scalar functions, with the same results on every backend
/// ([`crate::dialect::SqlHooks::scalar_func`]: on SQLite the Unicode-aware `chakra_lower`/
/// `chakra_upper` stand in for `lower`/`upper`, and `Now()` is Chakra's UTC timestamp text).
fn scalar_func(w: &mut SqlWriter, func: ScalarFunc, items: &[Expr]) -> Result<()> {
    w.dialect.sql().scalar_func(w, func, items)
}

/// A value inside a JSON document, extracted only when it has the JSON type asked for, so
/// `meta__n__gte=3` never compares the string `"3"`, on either backend. The path is a bound
/// parameter (a `text[]` for PostgreSQL's `#>`, a `$.a[0]."b"` path for SQLite's
/// `json_type`/`json_extract`).
fn json_path(w: &mut SqlWriter, target: &Expr, path: &[String], extract: JsonAs) -> Result<()> {
    w.dialect.sql().json_path(w, target, path, extract)
}

/// `CAST(e AS ty)`; a float cast to an integer truncates toward zero on both backends
/// (PostgreSQL would round).
fn cast(w: &mut SqlWriter, e: &Expr, ty: &ValueType) -> Result<()> {
    let hooks = w.dialect.sql();
    let Some(target) = hooks.cast_type(ty) else {
        return Err(Error::InvalidQuery(format!("cannot cast to {ty}")));
    };
    hooks.cast(w, e, ty, target)
}

/// An aggregate, with the same result type and value on every backend
/// ([`crate::dialect::SqlHooks::aggregate`]: PostgreSQL's integer `SUM`/`AVG` cast back, an
/// exact decimal `AVG`; SQLite's exact decimal aggregates `chakra_decimal_*`, never floating
/// point). `COUNT` is the same everywhere.
fn aggregate(w: &mut SqlWriter, a: &Aggregate) -> Result<()> {
    match a.func {
        AggFunc::Count => crate::dialect::standard::agg_call(w, "COUNT", a),
        _ => w.dialect.sql().aggregate(w, a),
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
    if case_insensitive {
        // Both sides folded by one rule on every backend (`sql/case_fold.rs`): per-character
        // lower case, final sigma as sigma.
        w.sql("REPLACE(");
        w.sql(w.dialect.sql().lower_fn());
        w.sql("(");
        expr(w, target)?;
        w.sql("), 'ς', 'σ') LIKE ");
        w.bind(Value::Text(super::case_fold::fold(&pattern)));
    } else {
        expr(w, target)?;
        w.sql(" LIKE ");
        w.bind(Value::Text(pattern));
    }
    w.sql(w.dialect.sql().like_collation());
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
    // A form whose text does not depend on the list's length, where the dialect has one.
    if w.dialect.sql().in_list(w, target, values, &elem)? {
        return Ok(());
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
    w.dialect
        .sql()
        .extract(w, part, target, ty.as_ref().unwrap_or(&ValueType::Date))
}
