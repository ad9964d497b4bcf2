//! Standard-SQL forms the hooks' default bodies write, as free functions so a dialect that
//! overrides a hook can still fall back to them for the cases it does not change.

use crate::sql::expression::expr;
use crate::sql::writer::SqlWriter;
use chakra_dsl::{
    AggFunc, Aggregate, ArithOp, Error, Expr, LockStrength, LockWait, OnConflict, Result, RowLock,
    ScalarFunc,
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
