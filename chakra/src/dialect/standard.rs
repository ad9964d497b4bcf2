//! Standard-SQL forms the hooks' default bodies write, as free functions so a dialect that
//! overrides a hook can still fall back to them for the cases it does not change.

use crate::sql::expression::expr;
use crate::sql::writer::SqlWriter;
use chakra_dsl::{
    AggFunc, Aggregate, ArithOp, Error, Expr, LockStrength, LockWait, OnConflict, Result, RowLock,
    ScalarFunc, ValueType,
};

/// Comma-separated expressions.
pub fn args(w: &mut SqlWriter, items: &[Expr]) -> Result<()> {
    for (i, a) in items.iter().enumerate() {
        if i > 0 {
            w.sql(", ");
        }
        expr(w, a)?;
    }
    Ok(())
}

/// `name(args)`.
pub fn call(w: &mut SqlWriter, name: &str, items: &[Expr]) -> Result<()> {
    w.sql(name);
    w.sql("(");
    args(w, items)?;
    w.sql(")");
    Ok(())
}

/// Scalar functions in standard SQL: `COALESCE`, `LOWER`, `UPPER`, `CHAR_LENGTH` (as
/// `BIGINT`), `CURRENT_TIMESTAMP`.
pub fn scalar_func(w: &mut SqlWriter, func: ScalarFunc, items: &[Expr]) -> Result<()> {
    match func {
        ScalarFunc::Coalesce => call(w, "COALESCE", items),
        ScalarFunc::Lower => call(w, "LOWER", items),
        ScalarFunc::Upper => call(w, "UPPER", items),
        ScalarFunc::Length => {
            w.sql("CAST(");
            call(w, "CHAR_LENGTH", items)?;
            w.sql(" AS BIGINT)");
            Ok(())
        }
        ScalarFunc::Now => {
            w.sql("CURRENT_TIMESTAMP");
            Ok(())
        }
    }
}

/// `(left op right)`.
pub fn arith(w: &mut SqlWriter, left: &Expr, op: ArithOp, right: &Expr) -> Result<()> {
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
    Ok(())
}

/// `name([DISTINCT] arg) [FILTER (WHERE …)]`.
pub fn agg_call(w: &mut SqlWriter, name: &str, a: &Aggregate) -> Result<()> {
    agg_call_with(w, name, a, expr)
}

/// [`agg_call`] writing the argument with `arg` (the walk's `ordered` for a value compared
/// as an instant or a number).
pub fn agg_call_with(
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
    let filter_clause = w.dialect.sql().aggregate_filter();
    match (&a.filter, filter_clause) {
        // No FILTER clause: the rows it leaves out give NULL, which aggregates skip.
        (Some(f), false) => {
            w.sql("CASE WHEN ");
            expr(w, f)?;
            w.sql(" THEN ");
            match &a.arg {
                Some(e) => arg(w, e)?,
                None => w.sql("1"),
            }
            w.sql(" END");
        }
        _ => match &a.arg {
            Some(e) => arg(w, e)?,
            None => w.sql("*"),
        },
    }
    w.sql(")");
    if let (Some(f), true) = (&a.filter, filter_clause) {
        w.sql(" FILTER (WHERE ");
        expr(w, f)?;
        w.sql(")");
    }
    Ok(())
}

/// The aggregate by its standard name.
pub fn aggregate(w: &mut SqlWriter, a: &Aggregate) -> Result<()> {
    let name = match a.func {
        AggFunc::Count => "COUNT",
        AggFunc::Sum => "SUM",
        AggFunc::Avg => "AVG",
        AggFunc::Min => "MIN",
        AggFunc::Max => "MAX",
    };
    agg_call(w, name, a)
}

/// `CAST(e AS target)`; a float or decimal cast to an integer is truncated toward zero
/// first with `trunc` (its opening text and its closing text: `("TRUNC(", ")")`), as every
/// backend's answer is (a cast alone rounds on PostgreSQL and MySQL).
pub fn cast(
    w: &mut SqlWriter,
    e: &Expr,
    ty: &ValueType,
    target: &str,
    trunc: (&str, &str),
) -> Result<()> {
    let truncate = matches!(ty, ValueType::I32 | ValueType::I64)
        && matches!(e.value_type(), Some(ValueType::F64 | ValueType::Decimal));
    w.sql("CAST(");
    if truncate {
        w.sql(trunc.0);
    }
    expr(w, e)?;
    if truncate {
        w.sql(trunc.1);
    }
    w.sql(" AS ");
    w.sql(target);
    w.sql(")");
    Ok(())
}

/// The types a dialect's [`typed_aggregate`] casts to.
pub struct AggregateTypes {
    /// A 64-bit integer (`BIGINT`; MySQL's `SIGNED`).
    pub integer: &'static str,
    /// A double (`DOUBLE PRECISION`; MySQL's `DOUBLE`).
    pub double: &'static str,
    /// What a decimal sum is cast to before it is divided by the count (PostgreSQL's
    /// `NUMERIC(1000, 20)`, so the quotient keeps 20 places); `None`: the sum as it is.
    pub decimal_sum: Option<&'static str>,
}

/// The aggregates whose result type the server would choose differently from the other
/// backends, written so every backend gives the same type and value: `SUM` of integers cast
/// back to an integer, `AVG` of integers as a double, `AVG` of a decimal as the exact sum
/// over the count rounded to 16 places. `Ok(false)` (nothing written) for the others.
pub fn typed_aggregate(w: &mut SqlWriter, a: &Aggregate, types: &AggregateTypes) -> Result<bool> {
    let arg_ty = a.arg.as_ref().and_then(Expr::value_type);
    let decimal = arg_ty == Some(ValueType::Decimal);
    let integer = matches!(arg_ty, Some(ValueType::I32 | ValueType::I64));
    match a.func {
        AggFunc::Sum if integer => {
            w.sql("CAST(");
            agg_call(w, "SUM", a)?;
            w.sql(" AS ");
            w.sql(types.integer);
            w.sql(")");
        }
        AggFunc::Avg if decimal => {
            w.sql("ROUND(");
            if let Some(t) = types.decimal_sum {
                w.sql("CAST(");
                agg_call(w, "SUM", a)?;
                w.sql(" AS ");
                w.sql(t);
                w.sql(")");
            } else {
                agg_call(w, "SUM", a)?;
            }
            w.sql(" / ");
            agg_call(w, "COUNT", a)?;
            w.sql(", 16)");
        }
        AggFunc::Avg => {
            w.sql("CAST(");
            agg_call(w, "AVG", a)?;
            w.sql(" AS ");
            w.sql(types.double);
            w.sql(")");
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// `ON CONFLICT …` (the same text on PostgreSQL and SQLite ≥ 3.24).
pub fn on_conflict(w: &mut SqlWriter, c: &OnConflict) -> Result<()> {
    w.sql(" ON CONFLICT");
    if !c.columns.is_empty() {
        w.sql(" (");
        for (i, col) in c.columns.iter().enumerate() {
            if i > 0 {
                w.sql(", ");
            }
            w.ident(col)?;
        }
        w.sql(")");
    }
    if c.update.is_empty() {
        w.sql(" DO NOTHING");
        return Ok(());
    }
    if c.columns.is_empty() {
        return Err(Error::InvalidQuery(
            "ON CONFLICT DO UPDATE needs the unique columns".into(),
        ));
    }
    w.sql(" DO UPDATE SET ");
    for (i, col) in c.update.iter().enumerate() {
        if i > 0 {
            w.sql(", ");
        }
        w.ident(col)?;
        w.sql(" = excluded.");
        w.ident(col)?;
    }
    Ok(())
}

/// `FOR UPDATE`/`FOR SHARE` `[OF …] [NOWAIT | SKIP LOCKED]`.
pub fn row_lock(w: &mut SqlWriter, lock: &RowLock) -> Result<()> {
    w.sql(match lock.strength {
        LockStrength::Update => " FOR UPDATE",
        LockStrength::Share => " FOR SHARE",
    });
    for (i, t) in lock.of.iter().enumerate() {
        w.sql(if i == 0 { " OF " } else { ", " });
        w.ident(t)?;
    }
    w.sql(match lock.wait {
        LockWait::Wait => "",
        LockWait::NoWait => " NOWAIT",
        LockWait::SkipLocked => " SKIP LOCKED",
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{compile, Dialect};
    use chakra_dsl::{AggFunc, Aggregate, Expr, Select, Source, Statement, ValueType};

    fn sql(e: Expr, ty: ValueType, d: Dialect) -> String {
        let s = Select::from(Source::table("t")).column(e, ty);
        compile(&Statement::Select(s), d).unwrap().sql()
    }

    /// The shared bodies give each dialect its own words, and only those.
    #[test]
    fn casts_and_typed_aggregates_in_each_dialects_words() {
        let x = || Expr::col("t", "x", ValueType::F64);
        let cast = |d| {
            let e = chakra_dsl::functions::cast(x(), ValueType::I64).unwrap();
            sql(e, ValueType::I64, d)
        };
        let pg = cast(Dialect::Postgres);
        assert!(pg.contains("CAST(TRUNC(\"t\".\"x\") AS BIGINT)"), "{pg}");
        let my = cast(Dialect::Mysql);
        assert!(
            my.contains("CAST(TRUNCATE(\"t\".\"x\", 0) AS SIGNED)"),
            "{my}"
        );
        let agg = |func, ty: ValueType, d| {
            let a = Aggregate {
                func,
                arg: Some(Expr::col("t", "n", ty.clone())),
                distinct: false,
                filter: None,
                ty: ty.clone(),
            };
            sql(Expr::Aggregate(Box::new(a)), ty, d)
        };
        let pg = agg(AggFunc::Sum, ValueType::I64, Dialect::Postgres);
        assert!(pg.contains("CAST(SUM(\"t\".\"n\") AS BIGINT)"), "{pg}");
        let my = agg(AggFunc::Sum, ValueType::I64, Dialect::Mysql);
        assert!(my.contains("CAST(SUM(\"t\".\"n\") AS SIGNED)"), "{my}");
        let pg = agg(AggFunc::Avg, ValueType::Decimal, Dialect::Postgres);
        assert!(
            pg.contains(
                "ROUND(CAST(SUM(\"t\".\"n\") AS NUMERIC(1000, 20)) / COUNT(\"t\".\"n\"), 16)"
            ),
            "{pg}"
        );
        let my = agg(AggFunc::Avg, ValueType::Decimal, Dialect::Mysql);
        assert!(
            my.contains("ROUND(SUM(\"t\".\"n\") / COUNT(\"t\".\"n\"), 16)"),
            "{my}"
        );
        let my = agg(AggFunc::Avg, ValueType::I32, Dialect::Mysql);
        assert!(my.contains("CAST(AVG(\"t\".\"n\") AS DOUBLE)"), "{my}");
        let pg = agg(AggFunc::Max, ValueType::I64, Dialect::Postgres);
        assert!(
            pg.contains("MAX(\"t\".\"n\")") && !pg.contains("CAST"),
            "{pg}"
        );
    }
}
