//! A [`Catalog`] turned into the migration state it stands for: each table a `CreateModel`'s
//! worth of fields (types the room mapped, nullability, defaults read back exactly, primary
//! key, unique keys, foreign keys with their ON DELETE), named indexes (multi-column, partial
//! and expression ones where the format can say them) and CHECK constraints. What the format
//! cannot say becomes a RunSQL that creates it (an index), or is left out and listed with the
//! SQL a reader would need (a table with a column no field type stores, an unnamed CHECK, a
//! default such as `gen_random_uuid()`). Pure: no I/O.

use super::catalog::{Catalog, CatalogIndex, CatalogTable, IndexKey};
use super::defaults::default_of;
use super::predicates;
use crate::migrate::operations::{
    ConstraintDef, ConstraintKind, DialectSql, IndexDef, Operation, RawObject,
};
use crate::migrate::state::{State, TableState};
use crate::sql::ddl::{field_enum_check_name, field_index_name, implies_index};
use crate::Dialect;
use chakra_dsl::{ident, DefaultValue, FieldMeta, FieldType, ForeignKeyRef, OnDelete};
use std::collections::{BTreeMap, BTreeSet};

/// Something of the database the migration files do not hold, said in a sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct LeftOut {
    /// The table it belongs to.
    pub table: String,
    /// What it is and why it is left out.
    pub what: String,
    /// SQL that would create it, where known (written as a commented RunSQL).
    pub sql: Option<String>,
    /// Kept in the files as a RunSQL that creates it (not left out).
    pub as_run_sql: bool,
}

/// What [`to_state`] makes of a catalog.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Inspected {
    /// The schema as the format says it.
    pub state: State,
    /// RunSQL operations (indexes the format cannot say), by the table they belong to.
    pub run_sql: BTreeMap<String, Vec<Operation>>,
    /// Everything left out or represented otherwise, each named.
    pub notes: Vec<LeftOut>,
}

impl Inspected {
    fn note_sql(&mut self, table: &str, what: impl Into<String>) {
        self.notes.push(LeftOut {
            table: table.to_owned(),
            what: what.into(),
            sql: None,
            as_run_sql: true,
        });
    }

    fn note(&mut self, table: &str, what: impl Into<String>, sql: Option<String>) {
        self.notes.push(LeftOut {
            table: table.to_owned(),
            what: what.into(),
            sql,
            as_run_sql: false,
        });
    }
}

/// A model name for a table: `order_items` → `OrderItems`.
pub fn model_name(table: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in table.chars() {
        if c.is_alphanumeric() {
            if upper {
                out.extend(c.to_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    out
}

/// The state of the tables of `catalog` (those named in `only`, when given) on dialect `d`.
pub fn to_state(catalog: &Catalog, d: Dialect, only: Option<&[String]>) -> Inspected {
    let mut out = Inspected::default();
    let wanted = |t: &str| only.is_none_or(|o| o.iter().any(|x| x == t));
    // Tables first: a table is kept when every column has a field type.
    let mut kept: BTreeSet<String> = BTreeSet::new();
    for (name, t) in catalog.tables.iter().filter(|(n, _)| wanted(n)) {
        if let Err(e) = ident::validate(name) {
            out.note(name, format!("table {name:?}: {e}"), None);
            continue;
        }
        let bad: Vec<String> = t
            .columns
            .iter()
            .filter_map(|c| {
                c.field_type
                    .as_ref()
                    .err()
                    .map(|why| format!("column {}: {why}", c.name))
            })
            .collect();
        if bad.is_empty() {
            kept.insert(name.clone());
        } else {
            out.note(
                name,
                format!("table {name} is left out: {}", bad.join("; ")),
                t.ddl.clone(),
            );
        }
    }
    for name in kept.clone() {
        let t = &catalog.tables[&name];
        let table = table_state(&name, t, d, &kept, &mut out);
        out.state.tables.insert(name, table);
    }
    out
}

fn table_state(
    name: &str,
    t: &CatalogTable,
    d: Dialect,
    kept: &BTreeSet<String>,
    out: &mut Inspected,
) -> TableState {
    let columns: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
    for why in &t.unreadable {
        out.note(name, format!("table {name}: {why}"), None);
    }
    if t.primary_key.is_empty() {
        out.note(
            name,
            format!("table {name} has no primary key: its models cannot load rows by key"),
            None,
        );
    }
    let mut checks = t.checks.clone();
    let mut fields = Vec::new();
    for c in &t.columns {
        let Ok(ty) = c.field_type.clone() else {
            continue;
        };
        let mut f = FieldMeta::new(c.name.clone(), ty);
        f.primary_key = t.primary_key.contains(&c.name);
        f.nullable = c.nullable && !f.primary_key;
        f.auto_increment = c.auto_increment
            && t.primary_key.len() == 1
            && f.primary_key
            && matches!(f.ty, FieldType::Integer | FieldType::BigInteger);
        if c.auto_increment && !f.auto_increment {
            out.note(
                name,
                format!(
                    "column {name}.{}: filled by the database, but not a single integer primary \
                     key (the only such column the format has); kept as a plain column",
                    c.name
                ),
                None,
            );
        }
        // An enum-like CHECK under the name Chakra gives an enum field's (SQLite, MySQL).
        if !d.sql().native_enums() && matches!(f.ty, FieldType::Text | FieldType::String { .. }) {
            let enum_check = field_enum_check_name(name, &c.name);
            if let Some(pos) = checks.iter().position(|k| k.name == enum_check) {
                if let Some((col, values)) = predicates::enum_like(&checks[pos].clause) {
                    let ty = FieldType::Enum {
                        name: format!("{name}_{}", c.name),
                        values,
                    };
                    let mut probe = f.clone();
                    probe.ty = ty.clone();
                    if col.eq_ignore_ascii_case(&c.name) && type_fits(&c.ty, &probe, d) {
                        f.ty = ty;
                        checks.remove(pos);
                    }
                }
            }
        }
        if !type_fits(&c.ty, &f, d) {
            out.note(
                name,
                format!(
                    "column {name}.{}: the database's type {} is stored as {} by the closest \
                     field type, {}",
                    c.name,
                    c.ty,
                    d.migrate().db_type_of(&f),
                    f.ty.name()
                ),
                None,
            );
        }
        if let Some(text) = c.default.as_ref().filter(|_| !f.auto_increment) {
            match default_of(text, &f, d) {
                Ok(v) => f.default = v,
                Err(why) => {
                    // A text column defaulting to the current time as Chakra writes it for a
                    // DateTime or Date field (SQLite, where both are text) is that field.
                    let temporal =
                        [FieldType::DateTime, FieldType::Date]
                            .into_iter()
                            .find_map(|ty| {
                                let mut probe = f.clone();
                                probe.ty = ty;
                                (type_fits(&c.ty, &probe, d)
                                    && default_of(text, &probe, d) == Ok(Some(DefaultValue::Now)))
                                .then_some(probe)
                            });
                    match temporal {
                        Some(mut probe) => {
                            probe.default = Some(DefaultValue::Now);
                            f = probe;
                        }
                        None => out.note(name, format!("column {name}.{}: {why}", c.name), None),
                    }
                }
            }
        }
        fields.push(f);
    }
    let mut constraints = Vec::new();
    for u in &t.uniques {
        match u.columns.as_slice() {
            [one] if !t.primary_key.contains(one) || t.primary_key.len() > 1 => {
                if let Some(f) = fields.iter_mut().find(|f| &f.column == one) {
                    f.unique = true;
                }
            }
            [_] => {}
            cols => constraints.push(ConstraintDef {
                name: u.name.clone(),
                kind: ConstraintKind::Unique {
                    columns: cols.to_vec(),
                },
            }),
        }
    }
    let mut indexes: Vec<CatalogIndex> = t.indexes.clone();
    for fk in &t.foreign_keys {
        if !kept.contains(&fk.table) {
            out.note(
                name,
                format!(
                    "foreign key {name}({}) -> {}: that table is left out, so is the key",
                    fk.columns.join(", "),
                    fk.table
                ),
                None,
            );
            continue;
        }
        let Some(on_delete) = OnDelete::parse(&fk.on_delete) else {
            out.note(
                name,
                format!(
                    "foreign key {name}({}) -> {}: ON DELETE {} has no word in the format",
                    fk.columns.join(", "),
                    fk.table,
                    fk.on_delete
                ),
                None,
            );
            continue;
        };
        // A one-column key is the field's own when the index Chakra gives such a field is
        // the one the table has (or none is implied: unique, or leading the primary key).
        if let ([col], [target]) = (fk.columns.as_slice(), fk.referenced.as_slice()) {
            let pks: Vec<FieldMeta> = fields.iter().filter(|f| f.primary_key).cloned().collect();
            let pk_refs: Vec<&FieldMeta> = pks.iter().collect();
            if let Some(f) = fields.iter_mut().find(|f| &f.column == col) {
                let mut probe = f.clone();
                probe.references = Some(ForeignKeyRef {
                    model: String::new(),
                    table: fk.table.clone(),
                    column: target.clone(),
                    on_delete,
                });
                let own = field_index_name(name, col);
                let implied = implies_index(&probe, &pk_refs);
                let found = indexes.iter().position(|i| {
                    i.name == own
                        && !i.unique
                        && i.predicate.is_none()
                        && i.unusual.is_none()
                        && i.keys == [IndexKey::Column(col.clone())]
                });
                if !implied || found.is_some() {
                    if let Some(pos) = found {
                        indexes.remove(pos);
                    }
                    *f = probe;
                    continue;
                }
            }
        }
        constraints.push(ConstraintDef {
            name: if fk.name.is_empty() {
                format!("{name}_{}_fkey", fk.columns.join("_"))
            } else {
                fk.name.clone()
            },
            kind: ConstraintKind::ForeignKey {
                columns: fk.columns.clone(),
                table: fk.table.clone(),
                referenced: fk.referenced.clone(),
                on_delete,
            },
        });
    }
    // MySQL names the index it makes for a foreign key after the key: the key brings it.
    indexes.retain(|i| {
        !constraints.iter().any(|c| {
            c.name == i.name
                && matches!(&c.kind, ConstraintKind::ForeignKey { columns, .. }
                    if i.keys.iter().map(|k| match k {
                        IndexKey::Column(c) => Some(c),
                        IndexKey::Expression(_) => None,
                    }).collect::<Vec<_>>() == columns.iter().map(Some).collect::<Vec<_>>())
        })
    });
    let mut named = Vec::new();
    for i in indexes {
        match index_def(name, &i, &columns, &mut fields) {
            Some(Some(def)) => named.push(def),
            Some(None) => {}
            None => {
                out.note_sql(
                    name,
                    format!(
                        "index {}: kept as a RunSQL that creates it ({})",
                        i.name,
                        i.unusual.clone().unwrap_or_else(|| {
                            "its keys or condition are SQL the format's \
                                                lookups cannot say"
                                .into()
                        })
                    ),
                );
                out.run_sql
                    .entry(name.to_owned())
                    .or_default()
                    .push(index_run_sql(&i, d));
            }
        }
    }
    for k in checks {
        if k.name.is_empty() {
            out.note(
                name,
                format!(
                    "table {name}: an unnamed CHECK ({}) cannot be kept under a name",
                    k.clause
                ),
                Some(format!(
                    "ALTER TABLE {} ADD CONSTRAINT <name> CHECK ({})",
                    ident::quote(name),
                    k.clause
                )),
            );
            continue;
        }
        // PostgreSQL writes `c IN (…)` back as `c = ANY (ARRAY[…])`, which is not one
        // portable expression: the list is kept in the words it was written in.
        let clause = match (
            crate::migrate::check_sql::check_expression(&k.clause),
            predicates::enum_like(&k.clause),
        ) {
            (Err(_), Some((col, values))) => format!(
                "{} IN ({})",
                ident::quote(&col),
                values
                    .iter()
                    .map(|v| format!("'{}'", v.replace('\'', "''")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => k.clause.clone(),
        };
        match crate::migrate::check_sql::check_expression(&clause) {
            Ok(()) => constraints.push(ConstraintDef {
                name: k.name.clone(),
                kind: ConstraintKind::Check { check: clause },
            }),
            Err(why) => out.note(
                name,
                format!("CHECK {} on {name}: {why}", k.name),
                Some(format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({})",
                    ident::quote(name),
                    ident::quote(&k.name),
                    k.clause
                )),
            ),
        }
    }
    TableState {
        name: model_name(name),
        table: name.to_owned(),
        fields,
        indexes: named,
        constraints,
    }
}

/// Whether the database's type words for a column are what Chakra would create for `f`.
fn type_fits(ty: &str, f: &FieldMeta, d: Dialect) -> bool {
    d.migrate().db_type_matches(ty, f)
}

/// An index in the format's words: `Some(None)` when it is a field's own (`index = true`),
/// `None` when the format cannot say it.
fn index_def(
    table: &str,
    i: &CatalogIndex,
    columns: &[String],
    fields: &mut [FieldMeta],
) -> Option<Option<IndexDef>> {
    if i.unusual.is_some() {
        return None;
    }
    let mut cols = Vec::new();
    let mut exprs = Vec::new();
    for k in &i.keys {
        match k {
            IndexKey::Column(c) if exprs.is_empty() => cols.push(c.clone()),
            IndexKey::Column(_) => return None, // a column after an expression
            IndexKey::Expression(e) => exprs.push(predicates::index_expression(e, columns)?),
        }
    }
    let condition = match &i.predicate {
        None => None,
        Some(p) => Some(predicates::condition(p, columns)?),
    };
    if let ([c], true, false, None) = (cols.as_slice(), exprs.is_empty(), i.unique, &condition) {
        if i.name == field_index_name(table, c) {
            if let Some(f) = fields.iter_mut().find(|f| &f.column == c) {
                f.index = true;
                return Some(None);
            }
        }
    }
    Some(Some(IndexDef {
        name: i.name.clone(),
        columns: cols,
        expressions: exprs,
        unique: i.unique,
        condition,
    }))
}

/// A RunSQL creating index `i` on dialect `d` only, declaring it (`creates`).
fn index_run_sql(i: &CatalogIndex, d: Dialect) -> Operation {
    let one = Some(i.sql.clone());
    let sql = match d {
        Dialect::Postgres => DialectSql::PerDialect {
            postgres: one,
            sqlite: None,
            mysql: None,
        },
        Dialect::Sqlite => DialectSql::PerDialect {
            postgres: None,
            sqlite: one,
            mysql: None,
        },
        Dialect::Mysql => DialectSql::PerDialect {
            postgres: None,
            sqlite: None,
            mysql: one,
        },
    };
    Operation::RunSql {
        sql,
        reverse_sql: None,
        creates: vec![RawObject::Index(i.name.clone())],
    }
}
