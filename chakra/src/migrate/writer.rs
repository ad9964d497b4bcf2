//! Writing migration files: [`Migration`] → canonical TOML text.
//!
//! The output is deterministic: keys in a fixed order, flags written only when set, the column
//! only when it differs from the name, strings escaped one way. Equal migrations give
//! byte-identical text, so `make` output is stable and the checksum (taken over this text)
//! ignores comments, key order, CRLF and whitespace in the file.

use super::operations::{
    ConstraintDef, ConstraintKind, DialectSql, IndexDef, Migration, Operation,
};
use super::values::{default_to_raw, RawDefault};
use chakra_dsl::{FieldMeta, FieldType, ForeignKeyRef, OnDelete};
use std::fmt::Write;

/// The canonical text of a migration.
pub fn write_migration(m: &Migration) -> String {
    let mut w = String::new();
    w.push_str("[migration]\n");
    kv(&mut w, "id", &quote(&m.id));
    kv(&mut w, "app", &quote(&m.app));
    if !m.dependencies.is_empty() {
        let deps: Vec<String> = m
            .dependencies
            .iter()
            .map(|d| format!("[{}, {}]", quote(&d.app), quote(&d.id)))
            .collect();
        kv(&mut w, "dependencies", &format!("[{}]", deps.join(", ")));
    }
    if !m.atomic {
        kv(&mut w, "atomic", "false");
    }
    if let Some(t) = m.lock_timeout {
        let ms = t.as_millis();
        let text = if ms % 1000 == 0 {
            format!("{}s", ms / 1000)
        } else {
            format!("{ms}ms")
        };
        kv(&mut w, "lock_timeout", &quote(&text));
    }
    for op in &m.operations {
        w.push_str("\n[[operations]]\n");
        kv(&mut w, "type", &quote(op.type_name()));
        write_operation(&mut w, op);
    }
    w
}

fn write_operation(w: &mut String, op: &Operation) {
    match op {
        Operation::CreateModel {
            name,
            table,
            fields,
            indexes,
            constraints,
        } => {
            kv(w, "name", &quote(name));
            kv(w, "table", &quote(table));
            for f in fields {
                w.push_str("\n[[operations.fields]]\n");
                write_field(w, f);
            }
            for i in indexes {
                w.push_str("\n[[operations.indexes]]\n");
                write_index(w, i);
            }
            for c in constraints {
                w.push_str("\n[[operations.constraints]]\n");
                write_constraint(w, c);
            }
        }
        Operation::DeleteModel { table } => kv(w, "table", &quote(table)),
        Operation::RenameModel {
            table,
            new_table,
            new_name,
        } => {
            kv(w, "table", &quote(table));
            kv(w, "new_table", &quote(new_table));
            if let Some(n) = new_name {
                kv(w, "new_name", &quote(n));
            }
        }
        Operation::AddField { table, field } | Operation::AlterField { table, field, .. } => {
            kv(w, "table", &quote(table));
            if let Operation::AlterField { lossy: true, .. } = op {
                kv(w, "lossy", "true");
            }
            if let Operation::AlterField { using: Some(u), .. } = op {
                kv(w, "using", &quote(u));
            }
            w.push_str("\n[operations.field]\n");
            write_field(w, field);
        }
        Operation::RemoveField { table, name }
        | Operation::RemoveIndex { table, name }
        | Operation::RemoveConstraint { table, name } => {
            kv(w, "table", &quote(table));
            kv(w, "name", &quote(name));
        }
        Operation::RenameField {
            table,
            name,
            new_name,
        } => {
            kv(w, "table", &quote(table));
            kv(w, "name", &quote(name));
            kv(w, "new_name", &quote(new_name));
        }
        Operation::AddIndex { table, index } => {
            kv(w, "table", &quote(table));
            write_index(w, index);
        }
        Operation::AddConstraint { table, constraint } => {
            kv(w, "table", &quote(table));
            write_constraint(w, constraint);
        }
        Operation::RunSql {
            sql,
            reverse_sql,
            creates,
        } => {
            kv(w, "sql", &dialect_sql(sql));
            if let Some(r) = reverse_sql {
                kv(w, "reverse_sql", &dialect_sql(r));
            }
            if !creates.is_empty() {
                let texts: Vec<String> = creates.iter().map(|c| c.to_string()).collect();
                kv(w, "creates", &list(&texts));
            }
        }
    }
}

/// Writes the keys of one field (shared with the schema writer and tests).
pub fn write_field(w: &mut String, f: &FieldMeta) {
    kv(w, "name", &quote(&f.name));
    if f.column != f.name {
        kv(w, "column", &quote(&f.column));
    }
    kv(w, "type", &quote(&f.ty.name()));
    match &f.ty {
        FieldType::String {
            max_length: Some(n),
        } => kv(w, "max_length", &n.to_string()),
        FieldType::Enum { name, values } => {
            kv(w, "enum", &quote(name));
            let quoted: Vec<String> = values.iter().map(|v| quote(v)).collect();
            kv(w, "values", &format!("[{}]", quoted.join(", ")));
        }
        FieldType::Decimal { precision, scale } => {
            if let Some(p) = precision {
                kv(w, "precision", &p.to_string());
            }
            if let Some(s) = scale {
                kv(w, "scale", &s.to_string());
            }
        }
        _ => {}
    }
    for (key, on) in [
        ("nullable", f.nullable),
        ("primary_key", f.primary_key),
        ("auto_increment", f.auto_increment),
        ("unique", f.unique),
        ("index", f.index),
    ] {
        if on {
            kv(w, key, "true");
        }
    }
    if let Some(d) = &f.default {
        let text = match default_to_raw(d) {
            RawDefault::Str(s) => quote(&s),
            RawDefault::Int(i) => i.to_string(),
            RawDefault::Float(x) => float(x),
            RawDefault::Bool(b) => b.to_string(),
        };
        kv(w, "default", &text);
    }
    if let Some(r) = &f.references {
        kv(w, "references", &references(r));
    }
}

fn references(r: &ForeignKeyRef) -> String {
    let mut parts = vec![format!("table = {}", quote(&r.table))];
    if !r.column.is_empty() {
        parts.push(format!("column = {}", quote(&r.column)));
    }
    parts.push(format!("on_delete = {}", quote(on_delete(r.on_delete))));
    format!("{{ {} }}", parts.join(", "))
}

fn on_delete(o: OnDelete) -> &'static str {
    o.sql()
}

fn write_index(w: &mut String, i: &IndexDef) {
    kv(w, "name", &quote(&i.name));
    if !i.columns.is_empty() || i.expressions.is_empty() {
        kv(w, "columns", &list(&i.columns));
    }
    if !i.expressions.is_empty() {
        let texts: Vec<String> = i.expressions.iter().map(|e| e.to_string()).collect();
        kv(w, "expressions", &list(&texts));
    }
    if i.unique {
        kv(w, "unique", "true");
    }
    if let Some(c) = &i.condition {
        kv(w, "condition", &super::conditions::to_toml(c));
    }
}

fn write_constraint(w: &mut String, c: &ConstraintDef) {
    kv(w, "name", &quote(&c.name));
    match &c.kind {
        ConstraintKind::Unique { columns } => {
            kv(w, "kind", "\"unique\"");
            kv(w, "columns", &list(columns));
        }
        ConstraintKind::Check { check } => {
            kv(w, "kind", "\"check\"");
            kv(w, "check", &quote(check));
        }
        ConstraintKind::CheckLookup { condition } => {
            kv(w, "kind", "\"check\"");
            kv(w, "condition", &super::conditions::to_toml(condition));
        }
        ConstraintKind::ForeignKey {
            columns,
            table,
            referenced,
            on_delete: od,
        } => {
            kv(w, "kind", "\"foreign_key\"");
            kv(w, "columns", &list(columns));
            kv(
                w,
                "references",
                &format!(
                    "{{ table = {}, columns = {}, on_delete = {} }}",
                    quote(table),
                    list(referenced),
                    quote(on_delete(*od))
                ),
            );
        }
    }
}

fn dialect_sql(s: &DialectSql) -> String {
    match s {
        DialectSql::All(s) => quote(s),
        DialectSql::PerDialect {
            postgres,
            sqlite,
            mysql,
        } => {
            let mut parts = Vec::new();
            if let Some(p) = postgres {
                parts.push(format!("postgres = {}", quote(p)));
            }
            if let Some(s) = sqlite {
                parts.push(format!("sqlite = {}", quote(s)));
            }
            if let Some(m) = mysql {
                parts.push(format!("mysql = {}", quote(m)));
            }
            format!("{{ {} }}", parts.join(", "))
        }
    }
}

fn kv(w: &mut String, key: &str, value: &str) {
    let _ = writeln!(w, "{key} = {value}");
}

fn list(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", q.join(", "))
}

fn float(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        let s = format!("{x:?}");
        if s.contains(['.', 'e', 'E']) {
            s
        } else {
            format!("{s}.0")
        }
    }
}

/// A TOML basic string: `"…"` with `\` `"` and control characters escaped.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
