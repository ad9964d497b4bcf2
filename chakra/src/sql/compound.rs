//! Compound selects (`UNION` / `INTERSECT` / `EXCEPT`, Django's `union`, `intersection`,
//! `difference`), for both dialects.
//!
//! Members combine left to right. Where the dialect parenthesises members (PostgreSQL, which
//! binds `INTERSECT` tighter) every member is parenthesised and the left side nested; SQLite
//! takes no parentheses and gives the operators equal precedence (left to right already). The ordering of the
//! combined rows names output columns by position (both databases accept only output
//! columns there); the slice follows it.

use super::statement::{order_limit_terms, select_core};
use super::writer::SqlWriter;
use super::Dialect;
use chakra_dsl::{Error, Expr, OrderBy, Result, Select};

/// Compiles a select with further members.
pub fn compound(w: &mut SqlWriter, s: &Select) -> Result<()> {
    if s.lock.is_some() {
        return Err(Error::InvalidQuery(
            "a combined query (union/intersection/difference) cannot lock rows".into(),
        ));
    }
    check_members(s)?;
    let pg = w.dialect.sql().parenthesised_compound_members();
    if pg {
        for _ in 1..s.compound.len() {
            w.sql("(");
        }
        w.sql("(");
    }
    select_core(w, s)?;
    if pg {
        w.sql(")");
    }
    for (i, part) in s.compound.iter().enumerate() {
        w.sql(" ");
        w.sql(part.op.keyword());
        if part.all {
            w.sql(" ALL");
        }
        w.sql(if pg { " (" } else { " " });
        select_core(w, &part.select)?;
        if pg {
            w.sql(")");
            if i + 1 < s.compound.len() {
                w.sql(")");
            }
        }
    }
    let positions = s
        .order_by
        .iter()
        .map(|o| position(s, o, w.dialect))
        .collect::<Result<Vec<_>>>()?;
    order_limit_terms(w, &positions, s.limit, s.offset)
}

/// Each member: no ordering, slice, lock or members of its own, and columns matching the
/// first member's in number and type.
fn check_members(s: &Select) -> Result<()> {
    for (n, part) in s.compound.iter().enumerate() {
        let m = &part.select;
        let what = part.op.keyword();
        if !m.order_by.is_empty() || m.limit.is_some() || m.offset.is_some() {
            return Err(Error::InvalidQuery(format!(
                "member {} of a {what}: ordering and slicing apply to the combined query only",
                n + 2
            )));
        }
        if m.lock.is_some() || !m.compound.is_empty() {
            return Err(Error::InvalidQuery(format!(
                "member {} of a {what}: a member cannot lock rows or be combined itself",
                n + 2
            )));
        }
        if m.columns.len() != s.columns.len() {
            return Err(Error::InvalidQuery(format!(
                "{what} of queries with different columns: the first selects {}, member {} \
                 selects {}",
                s.columns.len(),
                n + 2,
                m.columns.len()
            )));
        }
        for (i, (a, b)) in s.columns.iter().zip(&m.columns).enumerate() {
            if a.ty != b.ty {
                return Err(Error::InvalidQuery(format!(
                    "{what} of queries with different column types: column {} is {:?} in \
                     the first and {:?} in member {}",
                    i + 1,
                    a.ty,
                    b.ty,
                    n + 2
                )));
            }
        }
    }
    Ok(())
}

/// An ordering term of the combined rows as the 1-based position of the output column it
/// names, with its direction.
fn position(s: &Select, o: &OrderBy, dialect: Dialect) -> Result<(usize, bool)> {
    let found = s.columns.iter().position(|c| {
        c.expr == o.expr
            || matches!((&o.expr, &c.alias), (Expr::Column(r), Some(a)) if r.table.is_none() && &r.column == a)
    });
    let Some(i) = found else {
        return Err(Error::InvalidQuery(format!(
            "order of a combined query (union/intersection/difference) by {:?}: order by \
             one of its selected columns",
            o.expr
        )));
    };
    // Where the stored form does not sort as the value (SQLite's text decimals, datetimes in
    // several written forms), sorting by position would compare the stored text, so such an
    // ordering is refused there.
    let ty = &s.columns[i].ty;
    let hooks = dialect.sql();
    if hooks.stored_order_differs(ty) {
        return Err(Error::InvalidQuery(format!(
            "order of a combined query by column {} ({ty:?}) on {}, which would sort its \
             stored text: order the rows after fetching them",
            i + 1,
            hooks.title()
        )));
    }
    Ok((i + 1, o.desc))
}
