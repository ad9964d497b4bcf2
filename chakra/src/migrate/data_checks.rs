//! Type changes checked against the data before they run: for an `AlterField` whose new type
//! may not hold every value the old one did (a shorter `String`, text to a number, a smaller
//! integer or decimal…), the rows whose value would change or fail are counted first, and the
//! migration is refused with that count and an example value unless it says `lossy = true`.
//! PostgreSQL's `USING col::VARCHAR(3)` would truncate silently and SQLite would keep the text
//! in an INTEGER column: neither may happen unnoticed.

use super::lint::{narrowing_type, shown_type};
use super::operations::{Migration, Operation};
use super::state::State;
use crate::Dialect;
use chakra_dsl::{ident, FieldType};

/// One check: rows of `table` where `condition` holds would not survive the change.
#[derive(Debug, Clone, PartialEq)]
pub struct DataCheck {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// What changes (`String(50) to String(3)`).
    pub change: String,
    /// A SQL predicate over the table's row, true for a value that would not survive.
    pub condition: String,
}

fn numeric(d: Dialect, c: &str, from_decimal: bool) -> String {
    if from_decimal {
        d.migrate().decimal_as_number(c)
    } else {
        c.to_owned()
    }
}

/// The predicate for values of column `c` (quoted) that `old` → `new` would change or fail
/// on, when the change may lose anything.
pub fn condition(d: Dialect, c: &str, old: &FieldType, new: &FieldType) -> Option<String> {
    use FieldType as T;
    if matches!(new, T::Text | T::String { max_length: None }) && !matches!(old, T::Bytes) {
        return None;
    }
    if let T::Enum { values, .. } = new {
        // Values outside the new list would fail its CHECK (and any non-text value).
        let list: Vec<String> = values
            .iter()
            .map(|v| format!("'{}'", v.replace('\'', "''")))
            .collect();
        // Compared as text: a native enum column (PostgreSQL) would refuse a literal its old
        // type does not list.
        let cond = format!(
            "CAST({c} AS {}) NOT IN ({})",
            d.migrate().text_cast(),
            list.join(", ")
        );
        return match old {
            T::Enum { values: was, .. } if was.iter().all(|v| values.contains(v)) => None,
            T::Enum { .. } | T::String { .. } | T::Text => Some(cond),
            _ => Some(format!("{c} IS NOT NULL")),
        };
    }
    narrowing_type(old, new)?;
    let int_range = |e: &str, ty: &FieldType| match ty {
        T::Integer => format!(" OR {e} > 2147483647 OR {e} < -2147483648"),
        _ => String::new(),
    };
    Some(match (old, new) {
        (
            _,
            T::String {
                max_length: Some(n),
            },
        ) if matches!(old, T::String { .. } | T::Text) => format!("length({c}) > {n}"),
        (
            T::Integer | T::BigInteger | T::Float | T::Decimal { .. },
            T::String {
                max_length: Some(n),
            },
        ) => format!(
            "{}(CAST({c} AS {})) > {n}",
            d.migrate().char_length_fn(),
            d.migrate().text_cast()
        ),
        (T::BigInteger, T::Integer) => format!("{c} > 2147483647 OR {c} < -2147483648"),
        (T::Float | T::Decimal { .. }, T::Integer | T::BigInteger) => {
            let e = numeric(d, c, matches!(old, T::Decimal { .. }));
            format!("{e} <> round({e}){}", int_range(&e, new))
        }
        (T::String { .. } | T::Text, T::Integer | T::BigInteger) => {
            d.migrate().text_not_integer(c, matches!(new, T::Integer))
        }
        (
            T::Decimal { .. },
            T::Decimal {
                precision: Some(p),
                scale,
            },
        ) => {
            let s = scale.unwrap_or(0);
            let e = numeric(d, c, true);
            let whole = p.saturating_sub(s);
            format!("{e} <> round({e}, {s}) OR abs({e}) >= 1e{whole}")
        }
        // Anything else: no portable check, so every stored value counts.
        _ => format!("{c} IS NOT NULL"),
    })
}

/// The checks a migration's type changes need, given the schema before it (`before` is
/// advanced over the migration's operations). A change to unbounded text never loses a value;
/// `lossy = true` skips the check.
pub fn checks(m: &Migration, before: &State, d: Dialect) -> Vec<DataCheck> {
    let mut state = before.clone();
    let mut out = Vec::new();
    for op in &m.operations {
        // With `using`, what the expression gives is checked against the new type where a
        // wrong value would otherwise be kept (SQLite stores text in an INTEGER column) or
        // fail unnamed: text that is not an integer, text longer than the new length.
        if let Operation::AlterField {
            table,
            field,
            lossy: false,
            using: Some(u),
        } = op
        {
            let checked = matches!(
                field.ty,
                FieldType::Integer
                    | FieldType::BigInteger
                    | FieldType::String {
                        max_length: Some(_)
                    }
            );
            if let Some(old) = state
                .tables
                .get(table)
                .and_then(|t| t.field(&field.name))
                .filter(|_| checked)
            {
                let result = format!("CAST(({u}) AS {})", d.migrate().text_cast());
                if let Some(cond) = condition(d, &result, &FieldType::Text, &field.ty) {
                    out.push(DataCheck {
                        table: table.clone(),
                        column: old.column.clone(),
                        change: format!(
                            "{} to {} using {u}",
                            shown_type(&old.ty),
                            shown_type(&field.ty)
                        ),
                        condition: format!("({u}) IS NOT NULL AND ({cond})"),
                    });
                }
            }
        }
        if let Operation::AlterField {
            table,
            field,
            lossy: false,
            using: None,
        } = op
        {
            if let Some(old) = state.tables.get(table).and_then(|t| t.field(&field.name)) {
                if let Some(cond) = condition(d, &ident::quote(&old.column), &old.ty, &field.ty) {
                    out.push(DataCheck {
                        table: table.clone(),
                        column: old.column.clone(),
                        change: format!("{} to {}", shown_type(&old.ty), shown_type(&field.ty)),
                        condition: cond,
                    });
                }
            }
        }
        if state.apply(op).is_err() {
            break;
        }
    }
    out
}

/// The checks a rollback of `m` needs: each type it changed goes back to the one in `after`
/// (the schema once it is rolled back), from the one in `with` (the schema with it).
pub fn rollback_checks(m: &Migration, with: &State, after: &State, d: Dialect) -> Vec<DataCheck> {
    let mut out = Vec::new();
    for op in &m.operations {
        if let Operation::AlterField {
            table,
            field,
            lossy: false,
            ..
        } = op
        {
            let now = with.tables.get(table).and_then(|t| t.field(&field.name));
            let back = after.tables.get(table).and_then(|t| t.field(&field.name));
            if let (Some(now), Some(back)) = (now, back) {
                if let Some(cond) = condition(d, &ident::quote(&now.column), &now.ty, &back.ty) {
                    out.push(DataCheck {
                        table: table.clone(),
                        column: now.column.clone(),
                        change: format!("{} back to {}", shown_type(&now.ty), shown_type(&back.ty)),
                        condition: cond,
                    });
                }
            }
        }
    }
    out
}
