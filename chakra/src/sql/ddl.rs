//! DDL from model metadata: `CREATE TABLE` / `DROP TABLE` per dialect. The migration engine
//! and tests use it; column types follow the canonical type table.

use super::Dialect;
use chakra_dsl::{ident, DefaultValue, FieldMeta, FieldType, ModelMeta, Result, Value};

/// The column type of a field on a dialect.
pub fn column_type(ty: &FieldType, d: Dialect) -> String {
    match d {
        Dialect::Postgres => match ty {
            FieldType::Integer => "INTEGER".into(),
            FieldType::BigInteger => "BIGINT".into(),
            FieldType::String {
                max_length: Some(n),
            } => format!("VARCHAR({n})"),
            FieldType::String { max_length: None } | FieldType::Text => "TEXT".into(),
            FieldType::Boolean => "BOOLEAN".into(),
            FieldType::Float => "DOUBLE PRECISION".into(),
            FieldType::Decimal {
                precision: Some(p),
                scale,
            } => format!("NUMERIC({p}, {})", scale.unwrap_or(0)),
            FieldType::Decimal { .. } => "NUMERIC".into(),
            FieldType::DateTime => "TIMESTAMPTZ".into(),
            FieldType::Date => "DATE".into(),
            FieldType::Bytes => "BYTEA".into(),
            FieldType::Json => "JSONB".into(),
            FieldType::Array(inner) => format!("{}[]", column_type(inner, d)),
            FieldType::Uuid => "UUID".into(),
        },
        Dialect::Sqlite => match ty {
            FieldType::Integer | FieldType::BigInteger | FieldType::Boolean => "INTEGER".into(),
            FieldType::Float => "REAL".into(),
            FieldType::Bytes => "BLOB".into(),
            _ => "TEXT".into(),
        },
    }
}

/// A constant as SQL literal text for a DEFAULT clause (DDL cannot take bind parameters).
pub fn literal(v: &Value, d: Dialect) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    match v {
        Value::Null(_) => "NULL".into(),
        Value::Bool(b) => match d {
            Dialect::Postgres => if *b { "TRUE" } else { "FALSE" }.into(),
            Dialect::Sqlite => if *b { "1" } else { "0" }.into(),
        },
        Value::I32(x) => x.to_string(),
        Value::I64(x) => x.to_string(),
        Value::F64(x) => format!("{x:?}"),
        Value::Decimal(x) => match d {
            Dialect::Postgres => x.to_string(),
            Dialect::Sqlite => quote(&x.to_string()),
        },
        Value::Bytes(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            match d {
                Dialect::Postgres => format!("'\\x{hex}'::bytea"),
                Dialect::Sqlite => format!("X'{hex}'"),
            }
        }
        other => match (d, super::sqlite_values::to_storage(other.clone())) {
            (Dialect::Sqlite, Value::Text(s)) => quote(&s),
            (Dialect::Postgres, _) => match other {
                Value::Text(s) => quote(s),
                Value::DateTime(dt) => quote(&Value::datetime_text(dt)),
                Value::Date(x) => quote(&x.to_string()),
                Value::Uuid(u) => quote(&u.to_string()),
                Value::Json(j) => format!("{}::jsonb", quote(&j.to_string())),
                Value::Array(_) => "NULL".into(),
                _ => "NULL".into(),
            },
            _ => "NULL".into(),
        },
    }
}

fn column_def(f: &FieldMeta, d: Dialect, single_pk: bool) -> Result<String> {
    ident::validate(&f.column)?;
    let mut s = ident::quote(&f.column);
    s.push(' ');
    if f.auto_increment && f.primary_key {
        match d {
            Dialect::Postgres => s.push_str(match f.ty {
                FieldType::Integer => "SERIAL PRIMARY KEY",
                _ => "BIGSERIAL PRIMARY KEY",
            }),
            Dialect::Sqlite => s.push_str("INTEGER PRIMARY KEY AUTOINCREMENT"),
        }
        return Ok(s);
    }
    s.push_str(&column_type(&f.ty, d));
    if f.primary_key && single_pk {
        s.push_str(" PRIMARY KEY");
    }
    if !f.nullable && !f.primary_key {
        s.push_str(" NOT NULL");
    }
    if f.unique && !f.primary_key {
        s.push_str(" UNIQUE");
    }
    match &f.default {
        Some(DefaultValue::Now) => s.push_str(match d {
            Dialect::Postgres => " DEFAULT now()",
            Dialect::Sqlite => " DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')",
        }),
        Some(DefaultValue::Value(v)) => {
            s.push_str(" DEFAULT ");
            s.push_str(&literal(v, d));
        }
        None => {}
    }
    Ok(s)
}

/// `CREATE TABLE` (and `CREATE INDEX` for indexed fields) for a model.
pub fn create_table(meta: &ModelMeta, d: Dialect) -> Result<Vec<String>> {
    ident::validate(&meta.table)?;
    let pks: Vec<&FieldMeta> = meta.fields.iter().filter(|f| f.primary_key).collect();
    let single_pk = pks.len() == 1;
    let mut cols = Vec::with_capacity(meta.fields.len() + 1);
    for f in &meta.fields {
        cols.push(column_def(f, d, single_pk)?);
    }
    if pks.len() > 1 {
        let names: Vec<String> = pks.iter().map(|f| ident::quote(&f.column)).collect();
        cols.push(format!("PRIMARY KEY ({})", names.join(", ")));
    }
    let mut out = vec![format!(
        "CREATE TABLE {} ({})",
        ident::quote(&meta.table),
        cols.join(", ")
    )];
    for f in meta
        .fields
        .iter()
        .filter(|f| f.index && !f.unique && !f.primary_key)
    {
        let name = format!("{}_{}_idx", meta.table, f.column);
        ident::validate(&name)?;
        out.push(format!(
            "CREATE INDEX {} ON {} ({})",
            ident::quote(&name),
            ident::quote(&meta.table),
            ident::quote(&f.column)
        ));
    }
    Ok(out)
}

/// `DROP TABLE IF EXISTS` for a model.
pub fn drop_table(meta: &ModelMeta) -> Result<String> {
    ident::validate(&meta.table)?;
    Ok(format!(
        "DROP TABLE IF EXISTS {}",
        ident::quote(&meta.table)
    ))
}
