//! PostgreSQL's native enum types as DDL, for the native-enum storage of `Enum` fields
//! (issue 24): `CREATE TYPE … AS ENUM`, values added in their declared place
//! (`ALTER TYPE … ADD VALUE … BEFORE/AFTER`), and the recreation a removed or reordered value
//! needs (PostgreSQL cannot drop an enum value): the old type renamed aside, the new one
//! created, each column using it converted through its text, the old type dropped.
//! Pure: statements only; names validated and quoted, values as string literals.

use chakra_dsl::{ident, Result};

/// How an enum's values change from one declaration to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnumChange {
    /// The same values in the same order: nothing to do.
    Same,
    /// Every old value kept in its order; these are added, each placed beside a value
    /// already in the type when its turn comes (in the new declaration's order).
    Add(Vec<AddValue>),
    /// A value removed or the order changed: the type is recreated. `removed` are the old
    /// values the new declaration drops (rows holding one refuse the change).
    Recreate {
        /// Old values missing from the new declaration, in their old order.
        removed: Vec<String>,
    },
}

/// One value added to an existing enum type, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddValue {
    /// The new value.
    pub value: String,
    /// Where it goes.
    pub place: Place,
}

/// Where an added value goes among the type's current values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// `BEFORE 'x'` (the new value comes first in the declaration).
    Before(String),
    /// `AFTER 'x'`.
    After(String),
}

/// What changes from `old` to `new` (both non-empty lists without repeats, as
/// `check_enum_declaration` holds them).
pub fn change(old: &[String], new: &[String]) -> EnumChange {
    if old == new {
        return EnumChange::Same;
    }
    let removed: Vec<String> = old.iter().filter(|v| !new.contains(v)).cloned().collect();
    let kept: Vec<&String> = new.iter().filter(|v| old.contains(v)).collect();
    if !removed.is_empty() || kept.iter().copied().ne(old.iter()) {
        return EnumChange::Recreate { removed };
    }
    let mut added = Vec::new();
    for (i, v) in new.iter().enumerate() {
        if old.contains(v) {
            continue;
        }
        let place = match i {
            // Nothing before it: before the type's current first value (an old one).
            0 => Place::Before(old[0].clone()),
            // The value before it is in the type by now (old, or added just before).
            _ => Place::After(new[i - 1].clone()),
        };
        added.push(AddValue {
            value: v.clone(),
            place,
        });
    }
    EnumChange::Add(added)
}

fn literal(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

fn quoted(name: &str) -> Result<String> {
    ident::validate(name)?;
    Ok(ident::quote(name))
}

/// `CREATE TYPE "name" AS ENUM ('a', 'b')`.
pub fn create_type(name: &str, values: &[String]) -> Result<String> {
    let list: Vec<String> = values.iter().map(|v| literal(v)).collect();
    Ok(format!(
        "CREATE TYPE {} AS ENUM ({})",
        quoted(name)?,
        list.join(", ")
    ))
}

/// An anonymous block (`DO $tag$ … $tag$`) running `body`, its dollar-quote tag one that
/// `body` does not contain.
fn do_block(body: &str) -> String {
    let mut tag = "chakra".to_owned();
    let mut n = 0;
    while body.contains(&format!("${tag}$")) {
        n += 1;
        tag = format!("chakra{n}");
    }
    format!("DO ${tag}$ BEGIN {body} END ${tag}$")
}

/// The values of the enum type `name` in the current schema, in their order, as a
/// `text[]` expression (NULL when there is no such enum type).
pub fn values_sql(name: &str) -> String {
    format!(
        "(SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e \
         JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = {} \
         AND t.typnamespace = current_schema()::regnamespace)",
        literal(name)
    )
}

/// The type created when it does not exist; an existing one with other values (or another
/// order) is refused with an error naming it and both lists, never used silently.
pub fn create_type_if_absent(name: &str, values: &[String]) -> Result<String> {
    let create = create_type(name, values)?;
    let list: Vec<String> = values.iter().map(|v| literal(v)).collect();
    let want = format!("ARRAY[{}]::text[]", list.join(", "));
    let found = values_sql(name);
    Ok(do_block(&format!(
        "IF NOT EXISTS (SELECT 1 FROM pg_type t WHERE t.typname = {n} \
         AND t.typnamespace = current_schema()::regnamespace) THEN {create}; \
         ELSIF {found} IS DISTINCT FROM {want} THEN RAISE EXCEPTION \
         'the enum type % exists with the values %, not the declared %', {n}, \
         coalesce({found}::text, '(none: not an enum)'), {want}::text; END IF;",
        n = literal(name)
    )))
}

/// `DROP TYPE IF EXISTS "name"`, left alone while a column still uses it.
pub fn drop_type_if_unused(name: &str) -> Result<String> {
    Ok(do_block(&format!(
        "{}; EXCEPTION WHEN dependent_objects_still_exist THEN NULL;",
        drop_type(name)?
    )))
}

/// `DROP TYPE IF EXISTS "name"` (the last column using it is gone).
pub fn drop_type(name: &str) -> Result<String> {
    Ok(format!("DROP TYPE IF EXISTS {}", quoted(name)?))
}

/// `ALTER TYPE "name" ADD VALUE IF NOT EXISTS 'v' AFTER 'u'`, one statement per value, in
/// order. PostgreSQL 12+ runs them inside a transaction, but a value added there cannot be
/// used (written, compared) until that transaction commits.
pub fn add_values(name: &str, added: &[AddValue]) -> Result<Vec<String>> {
    let ty = quoted(name)?;
    Ok(added
        .iter()
        .map(|a| {
            let (word, beside) = match &a.place {
                Place::Before(x) => ("BEFORE", x),
                Place::After(x) => ("AFTER", x),
            };
            format!(
                "ALTER TYPE {ty} ADD VALUE IF NOT EXISTS {} {word} {}",
                literal(&a.value),
                literal(beside)
            )
        })
        .collect())
}

/// The name the old type is renamed to while it is recreated: `<name>__chakra_old`, the
/// name shortened (at a character boundary) to keep it within 63 bytes.
pub fn aside_name(name: &str) -> String {
    const SUFFIX: &str = "__chakra_old";
    let mut keep = name.len().min(ident::MAX_IDENT_LEN - SUFFIX.len());
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}{SUFFIX}", &name[..keep])
}

/// One column whose type is the enum being recreated, with its default (a value of the new
/// declaration) if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumColumn {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// The column's default value, if any.
    pub default: Option<String>,
}

/// The statements that give the type `name` exactly `values` (in that order) when values go
/// or move: the old type renamed aside, the new one created, each column converted through
/// its text (`USING "c"::text::"name"`; a default is dropped first and set again after, as
/// PostgreSQL cannot cast it), the old type dropped. The rows must hold only kept values
/// (checked before: [`EnumChange::Recreate`]'s `removed`).
pub fn recreate(name: &str, values: &[String], columns: &[EnumColumn]) -> Result<Vec<String>> {
    let ty = quoted(name)?;
    let aside = quoted(&aside_name(name))?;
    let mut out = vec![
        format!("ALTER TYPE {ty} RENAME TO {aside}"),
        create_type(name, values)?,
    ];
    for c in columns {
        let alter = format!(
            "ALTER TABLE {} ALTER COLUMN {}",
            quoted(&c.table)?,
            quoted(&c.column)?
        );
        let col = ident::quote(&c.column);
        if c.default.is_some() {
            out.push(format!("{alter} DROP DEFAULT"));
        }
        out.push(format!("{alter} TYPE {ty} USING {col}::text::{ty}"));
        if let Some(d) = &c.default {
            out.push(format!("{alter} SET DEFAULT {}", literal(d)));
        }
    }
    out.push(format!("DROP TYPE {aside}"));
    Ok(out)
}

#[cfg(test)]
#[path = "enum_ddl_tests.rs"]
mod tests;
