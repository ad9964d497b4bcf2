//! Reading migration files: TOML text → [`Migration`].
//!
//! The file format (documented in `docs/migrations.md`):
//!
//! ```toml
//! [migration]
//! id = "0002_email"
//! app = "users"
//! dependencies = [["users", "0001_initial"]]   # optional
//! atomic = false                                # optional, default true
//! lock_timeout = "10s"                          # optional (PostgreSQL), default --ddl-lock-timeout
//!
//! [[operations]]
//! type = "AddField"
//! table = "users"
//! [operations.field]
//! name = "email"
//! type = "String"
//! max_length = 254
//! nullable = true
//! ```
//!
//! Every key is checked: an unknown key, a value of the wrong type or an unknown operation is
//! an error naming the file, the line and what is wrong. Parsing is pure (text in).

use super::error::{MResult, MigrationError};
use super::operations::{
    ConstraintDef, ConstraintKind, Dependency, IndexDef, Migration, Operation,
};
use super::toml_reader::{Ctx, Obj};
use super::values::{default_from_raw, RawDefault};
use chakra_dsl::names::field_type_names;
use chakra_dsl::table_options::IndexExpr;
use chakra_dsl::{FieldMeta, FieldType, ForeignKeyRef};
use toml::de::{DeTable, DeValue};

/// Parses the text of a migration file. `file` is used in error messages only.
pub fn parse_migration(text: &str, file: &str) -> MResult<Migration> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let ctx = Ctx { file, src: text };
    let doc = DeTable::parse(text).map_err(|e| {
        let line = e.span().map(|s| ctx.line(s.start));
        MigrationError::at(file, line, format!("not valid TOML: {}", e.message()))
    })?;
    let root = Obj::new(&ctx, doc.get_ref(), doc.span(), "the file".into());
    root.only(&["migration", "operations"])?;
    let head = root
        .table("migration")?
        .ok_or_else(|| MigrationError::at(file, Some(1), "no [migration] table (with id and app)"))?
        .renamed("[migration]".into());
    head.only(&["id", "app", "dependencies", "atomic", "lock_timeout"])?;
    let id = head.req_str("id")?;
    let app = head.req_str("app")?;
    let atomic = head.bool("atomic")?.unwrap_or(true);
    let lock_timeout = match head.str("lock_timeout")? {
        None => None,
        Some(text) => Some(
            parse_lock_timeout(&text).ok_or_else(|| {
                    let span = head.get("lock_timeout").map(|v| v.span()).unwrap_or(0..0);
                    ctx.err(
                        span,
                        &format!(
                            "lock_timeout = {text:?} is not a duration above zero (write \"5s\", \"500ms\" or \"2m\")"
                        ),
                    )
                })?,
        ),
    };
    let mut dependencies = Vec::new();
    if let Some(v) = head.get("dependencies") {
        for item in ctx.array(v, "dependencies")? {
            let pair = ctx.str_list(item, "a dependency")?;
            match <[String; 2]>::try_from(pair) {
                Ok([app, id]) => dependencies.push(Dependency { app, id }),
                Err(_) => {
                    return Err(ctx.err(
                        item.span(),
                        "a dependency is a pair of strings: [\"app\", \"0001_initial\"]",
                    ))
                }
            }
        }
    }
    let mut operations = Vec::new();
    if let Some(v) = root.get("operations") {
        for (i, item) in ctx.array(v, "operations")?.iter().enumerate() {
            let t = ctx.as_table(item, "an [[operations]] entry")?;
            let op = Obj::new(&ctx, t, item.span(), format!("operation #{}", i + 1));
            operations.push(parse_operation(&op)?);
        }
    }
    Ok(Migration {
        id,
        app,
        dependencies,
        atomic,
        lock_timeout,
        operations,
    })
}

/// A lock timeout: `5s`, `500ms`, `2m`, or a bare number of seconds; above zero.
pub fn parse_lock_timeout(text: &str) -> Option<std::time::Duration> {
    let t = text.trim();
    let d = match t.parse::<u64>() {
        Ok(secs) => std::time::Duration::from_secs(secs),
        Err(_) => crate::config::parse_duration(t)?,
    };
    (!d.is_zero()).then_some(d)
}

const OPERATION_TYPES: &str = "CreateModel, DeleteModel, RenameModel, AddField, RemoveField, \
AlterField, RenameField, AddIndex, RemoveIndex, AddConstraint, RemoveConstraint, RunSQL";

fn parse_operation(op: &Obj<'_, '_, '_>) -> MResult<Operation> {
    let ty = op.req_str("type")?;
    let table = || op.req_str("table");
    Ok(match ty.as_str() {
        "CreateModel" => {
            op.only(&["type", "name", "table", "fields", "indexes", "constraints"])?;
            let mut fields = Vec::new();
            for (i, f) in op.tables("fields")?.iter().enumerate() {
                fields.push(parse_field(&f.renamed(format!("field #{}", i + 1)))?);
            }
            let indexes = op
                .tables("indexes")?
                .iter()
                .map(|t| parse_index(t, false))
                .collect::<MResult<_>>()?;
            let constraints = op
                .tables("constraints")?
                .iter()
                .map(|t| parse_constraint(t, false))
                .collect::<MResult<_>>()?;
            let table = table()?;
            Operation::CreateModel {
                name: op.str("name")?.unwrap_or_else(|| table.clone()),
                table,
                fields,
                indexes,
                constraints,
            }
        }
        "DeleteModel" => {
            op.only(&["type", "table"])?;
            Operation::DeleteModel { table: table()? }
        }
        "RenameModel" => {
            op.only(&["type", "table", "new_table", "new_name"])?;
            Operation::RenameModel {
                table: table()?,
                new_table: op.req_str("new_table")?,
                new_name: op.str("new_name")?,
            }
        }
        "AddField" | "AlterField" => {
            if ty == "AddField" {
                op.only(&["type", "table", "field"])?;
            } else {
                op.only(&["type", "table", "field", "lossy", "using"])?;
            }
            let f = op
                .table("field")?
                .ok_or_else(|| op.err_here(&format!("{ty} needs an [operations.field] table")))?;
            let field = parse_field(&f)?;
            if ty == "AddField" {
                Operation::AddField {
                    table: table()?,
                    field,
                }
            } else {
                Operation::AlterField {
                    table: table()?,
                    field,
                    lossy: op.bool("lossy")?.unwrap_or(false),
                    using: match op.str("using")? {
                        None => None,
                        Some(u) => {
                            if let Err(why) = super::check_sql::check_expression(&u) {
                                let span = op.get("using").map(|v| v.span()).unwrap_or(0..0);
                                return Err(op.ctx.err(
                                    span,
                                    &format!("using is not one SQL expression: {why}"),
                                ));
                            }
                            Some(u)
                        }
                    },
                }
            }
        }
        "RemoveField" => {
            op.only(&["type", "table", "name"])?;
            Operation::RemoveField {
                table: table()?,
                name: op.req_str("name")?,
            }
        }
        "RenameField" => {
            op.only(&["type", "table", "name", "new_name"])?;
            Operation::RenameField {
                table: table()?,
                name: op.req_str("name")?,
                new_name: op.req_str("new_name")?,
            }
        }
        "AddIndex" => Operation::AddIndex {
            table: table()?,
            index: parse_index(op, true)?,
        },
        "RemoveIndex" | "RemoveConstraint" => {
            op.only(&["type", "table", "name"])?;
            let (table, name) = (table()?, op.req_str("name")?);
            if ty == "RemoveIndex" {
                Operation::RemoveIndex { table, name }
            } else {
                Operation::RemoveConstraint { table, name }
            }
        }
        "AddConstraint" => Operation::AddConstraint {
            table: table()?,
            constraint: parse_constraint(op, true)?,
        },
        "RunSQL" => {
            op.only(&["type", "sql", "reverse_sql", "creates"])?;
            let sql = op
                .dialect_sql("sql")?
                .ok_or_else(|| op.err_here("RunSQL needs sql = \"…\""))?;
            let creates = match op.get("creates") {
                Some(v) => op
                    .ctx
                    .str_list(v, "creates")?
                    .iter()
                    .map(|c| super::operations::RawObject::parse(c))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|why| op.ctx.err(v.span(), &format!("creates: {why}")))?,
                None => Vec::new(),
            };
            Operation::RunSql {
                sql,
                reverse_sql: op.dialect_sql("reverse_sql")?,
                creates,
            }
        }
        other => {
            let span = op.get("type").map(|v| v.span()).unwrap_or(op.span.clone());
            return Err(op.ctx.err(
                span,
                &format!("unknown operation type {other:?}; expected one of {OPERATION_TYPES}"),
            ));
        }
    })
}

fn parse_field(f: &Obj<'_, '_, '_>) -> MResult<FieldMeta> {
    f.only(&[
        "name",
        "column",
        "type",
        "max_length",
        "precision",
        "scale",
        "enum",
        "values",
        "nullable",
        "primary_key",
        "auto_increment",
        "unique",
        "index",
        "default",
        "references",
    ])?;
    let name = f.req_str("name")?;
    let type_name = f.req_str("type")?;
    let type_span = f.get("type").map(|v| v.span()).unwrap_or(f.span.clone());
    let mut ty: FieldType = type_name.parse().map_err(|_| {
        f.ctx.err(
            type_span.clone(),
            &format!(
                "unknown type {type_name:?}; expected one of {}",
                field_type_names()
            ),
        )
    })?;
    let max_length = f.u32("max_length")?;
    let (precision, scale) = (f.u32("precision")?, f.u32("scale")?);
    match &mut ty {
        FieldType::String { max_length: m } => *m = max_length,
        FieldType::Decimal {
            precision: p,
            scale: s,
        } => (*p, *s) = (precision, scale),
        _ => {}
    }
    let misplaced = |key: &str, ok: bool| -> MResult<()> {
        match f.get(key) {
            Some(v) if !ok => Err(f.ctx.err(
                v.span(),
                &format!("{key} does not apply to a {type_name} field"),
            )),
            _ => Ok(()),
        }
    };
    misplaced("max_length", matches!(ty, FieldType::String { .. }))?;
    misplaced("precision", matches!(ty, FieldType::Decimal { .. }))?;
    misplaced("scale", matches!(ty, FieldType::Decimal { .. }))?;
    misplaced("enum", matches!(ty, FieldType::Enum { .. }))?;
    misplaced("values", matches!(ty, FieldType::Enum { .. }))?;
    if let FieldType::Enum {
        name: enum_name,
        values,
    } = &mut ty
    {
        *enum_name = f.req_str("enum")?;
        let list = f.get("values").ok_or_else(|| {
            f.ctx
                .err(type_span.clone(), "an Enum field needs values = [...]")
        })?;
        *values = f.ctx.str_list(list, "values")?;
        if let Err(why) = chakra_dsl::types::check_enum_declaration(enum_name, values) {
            return Err(f.ctx.err(list.span(), &why));
        }
    }
    let mut meta = FieldMeta::new(name, ty);
    if let Some(c) = f.str("column")? {
        meta.column = c;
    }
    meta.nullable = f.bool("nullable")?.unwrap_or(false);
    meta.primary_key = f.bool("primary_key")?.unwrap_or(false);
    meta.auto_increment = f.bool("auto_increment")?.unwrap_or(false);
    meta.unique = f.bool("unique")?.unwrap_or(false);
    meta.index = f.bool("index")?.unwrap_or(false);
    if let Some(v) = f.get("default") {
        let raw = match v.get_ref() {
            DeValue::String(s) => RawDefault::Str(s.to_string()),
            DeValue::Integer(i) => RawDefault::Int(
                i64::from_str_radix(i.as_str(), i.radix())
                    .map_err(|_| f.ctx.err(v.span(), "the default does not fit 64 bits"))?,
            ),
            DeValue::Float(x) => RawDefault::Float(
                x.as_str()
                    .parse()
                    .map_err(|_| f.ctx.err(v.span(), "the default is not a float"))?,
            ),
            DeValue::Boolean(b) => RawDefault::Bool(*b),
            other => {
                return Err(f.ctx.err(
                    v.span(),
                    &format!(
                        "default must be a string, number or boolean, not {}",
                        other.type_str()
                    ),
                ))
            }
        };
        meta.default = Some(default_from_raw(&raw, &meta.ty).map_err(|m| f.ctx.err(v.span(), &m))?);
    }
    if let Some(r) = f.table("references")? {
        r.only(&["table", "column", "on_delete"])?;
        meta.references = Some(ForeignKeyRef {
            model: String::new(),
            table: r.req_str("table")?,
            column: r.str("column")?.unwrap_or_default(),
            on_delete: r.on_delete()?,
        });
    }
    Ok(meta)
}

fn parse_index(t: &Obj<'_, '_, '_>, in_op: bool) -> MResult<IndexDef> {
    let keys: &[&str] = if in_op {
        &[
            "type",
            "table",
            "name",
            "columns",
            "expressions",
            "unique",
            "condition",
        ]
    } else {
        &["name", "columns", "expressions", "unique", "condition"]
    };
    t.only(keys)?;
    // Keys: the columns, then the expressions (`["lower(email)"]`); one of them at least.
    let expressions = match t.get("expressions") {
        Some(v) => t
            .ctx
            .str_list(v, "expressions")?
            .iter()
            .map(|e| IndexExpr::parse(e).map_err(|err| t.ctx.err(v.span(), &err.to_string())))
            .collect::<MResult<Vec<_>>>()?,
        None => Vec::new(),
    };
    let columns = if expressions.is_empty() || t.get("columns").is_some() {
        t.req_columns("columns")?
    } else {
        Vec::new()
    };
    Ok(IndexDef {
        name: t.req_str("name")?,
        columns,
        expressions,
        unique: t.bool("unique")?.unwrap_or(false),
        condition: match t.get("condition") {
            Some(v) => Some(super::conditions::from_toml(t.ctx, v, "condition")?),
            None => None,
        },
    })
}

fn parse_constraint(t: &Obj<'_, '_, '_>, in_op: bool) -> MResult<ConstraintDef> {
    let keys: &[&str] = if in_op {
        &[
            "type",
            "table",
            "name",
            "kind",
            "columns",
            "check",
            "condition",
            "references",
        ]
    } else {
        &[
            "name",
            "kind",
            "columns",
            "check",
            "condition",
            "references",
        ]
    };
    t.only(keys)?;
    let name = t.req_str("name")?;
    let kind_name = t.req_str("kind")?;
    let kind = match kind_name.as_str() {
        "unique" => ConstraintKind::Unique {
            columns: t.req_columns("columns")?,
        },
        "check" if t.get("condition").is_some() && t.get("check").is_none() => {
            let v = t.get("condition").expect("checked");
            ConstraintKind::CheckLookup {
                condition: super::conditions::from_toml(t.ctx, v, "condition")?,
            }
        }
        "check" => {
            let check = t.req_str("check")?;
            if let Err(why) = super::check_sql::check_expression(&check) {
                let span = t.get("check").map(|v| v.span()).unwrap_or(t.span.clone());
                return Err(t.ctx.err(
                    span,
                    &format!("check of constraint {name:?} is not one SQL expression: {why}"),
                ));
            }
            ConstraintKind::Check { check }
        }
        "foreign_key" => {
            let r = t.table("references")?.ok_or_else(|| {
                t.err_here(
                    "a foreign_key constraint needs references = { table = …, columns = […] }",
                )
            })?;
            r.only(&["table", "columns", "on_delete"])?;
            ConstraintKind::ForeignKey {
                columns: t.req_columns("columns")?,
                table: r.req_str("table")?,
                referenced: r.req_columns("columns")?,
                on_delete: r.on_delete()?,
            }
        }
        other => {
            let span = t.get("kind").map(|v| v.span()).unwrap_or(t.span.clone());
            return Err(t.ctx.err(
                span,
                &format!(
                    "unknown constraint kind {other:?}; expected unique, check or foreign_key"
                ),
            ));
        }
    };
    Ok(ConstraintDef { name, kind })
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
