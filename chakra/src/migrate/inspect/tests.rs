//! The catalog → state conversion, on hand-built catalogs (no database).

use super::*;
use crate::migrate::operations::{ConstraintKind, Operation};
use crate::Dialect;
use chakra_dsl::table_options::{Cond, CondValue};
use chakra_dsl::{DefaultValue, FieldType, OnDelete, Value};

fn col(name: &str, ty: &str, field: FieldType) -> CatalogColumn {
    CatalogColumn {
        name: name.into(),
        ty: ty.into(),
        field_type: Ok(field),
        nullable: false,
        default: None,
        auto_increment: false,
    }
}

fn sqlite_catalog() -> Catalog {
    let mut users = CatalogTable {
        columns: vec![
            CatalogColumn {
                auto_increment: true,
                ..col("id", "integer", FieldType::BigInteger)
            },
            col(
                "email",
                "varchar(80)",
                FieldType::String {
                    max_length: Some(80),
                },
            ),
            CatalogColumn {
                default: Some("'new'".into()),
                ..col("status", "text", FieldType::Text)
            },
            CatalogColumn {
                nullable: true,
                ..col("deleted_at", "timestamp", FieldType::DateTime)
            },
            CatalogColumn {
                nullable: true,
                ..col("manager_id", "integer", FieldType::BigInteger)
            },
        ],
        primary_key: vec!["id".into()],
        ..Default::default()
    };
    users.uniques.push(CatalogKey {
        name: "sqlite_autoindex_users_1".into(),
        columns: vec!["email".into()],
    });
    users.foreign_keys.push(CatalogForeignKey {
        name: String::new(),
        columns: vec!["manager_id".into()],
        table: "users".into(),
        referenced: vec!["id".into()],
        on_delete: "SET NULL".into(),
    });
    users.indexes.push(CatalogIndex {
        name: "users_manager_id_idx".into(),
        unique: false,
        keys: vec![IndexKey::Column("manager_id".into())],
        predicate: None,
        unusual: None,
        sql: String::new(),
    });
    users.indexes.push(CatalogIndex {
        name: "users_live".into(),
        unique: false,
        keys: vec![IndexKey::Column("email".into())],
        predicate: Some("deleted_at IS NULL".into()),
        unusual: None,
        sql: String::new(),
    });
    users.indexes.push(CatalogIndex {
        name: "users_odd".into(),
        unique: false,
        keys: vec![IndexKey::Expression("substr(email, 2)".into())],
        predicate: None,
        unusual: None,
        sql: "CREATE INDEX users_odd ON users (substr(email, 2))".into(),
    });
    users.checks.push(CatalogCheck {
        name: "users_status_enum".into(),
        clause: "status IN ('new', 'gone')".into(),
    });
    users.checks.push(CatalogCheck {
        name: "users_email_at".into(),
        clause: "email LIKE '%@%'".into(),
    });
    let mut orders = CatalogTable {
        columns: vec![
            col("user_id", "integer", FieldType::BigInteger),
            col("n", "integer", FieldType::BigInteger),
            col("author_id", "integer", FieldType::BigInteger),
            CatalogColumn {
                field_type: Err("no field type stores it".into()),
                ..col("blob", "", FieldType::Bytes)
            },
        ],
        primary_key: vec!["user_id".into(), "n".into()],
        ddl: Some("CREATE TABLE orders (…)".into()),
        ..Default::default()
    };
    orders.foreign_keys.push(CatalogForeignKey {
        name: String::new(),
        columns: vec!["author_id".into()],
        table: "users".into(),
        referenced: vec!["id".into()],
        on_delete: "CASCADE".into(),
    });
    let mut c = Catalog::default();
    c.tables.insert("users".into(), users);
    c.tables.insert("orders".into(), orders);
    c
}

#[test]
fn a_catalog_becomes_a_state_with_what_is_left_out_named() {
    let mut cat = sqlite_catalog();
    let out = to_state(&cat, Dialect::Sqlite, None);
    // `orders` has a column no field type stores: left out, with its DDL.
    assert!(!out.state.tables.contains_key("orders"));
    let orders = out.notes.iter().find(|n| n.table == "orders").unwrap();
    assert!(orders.what.contains("column blob"), "{orders:?}");
    assert_eq!(orders.sql.as_deref(), Some("CREATE TABLE orders (…)"));
    let users = &out.state.tables["users"];
    assert_eq!(users.name, "Users");
    let f = |n: &str| users.field(n).unwrap();
    assert!(f("id").primary_key && f("id").auto_increment);
    assert!(f("email").unique);
    assert_eq!(
        f("status").ty,
        FieldType::Enum {
            name: "users_status".into(),
            values: vec!["new".into(), "gone".into()]
        }
    );
    assert_eq!(
        f("status").default,
        Some(DefaultValue::Value(Value::Text("new".into())))
    );
    assert!(f("deleted_at").nullable);
    let r = f("manager_id").references.as_ref().unwrap();
    assert_eq!((r.table.as_str(), r.column.as_str()), ("users", "id"));
    assert_eq!(r.on_delete, OnDelete::SetNull);
    // The partial index in lookups; the expression index only SQL can say: a RunSQL.
    assert_eq!(users.indexes.len(), 1);
    assert_eq!(
        users.indexes[0].condition,
        Some(Cond::Lookup {
            key: "deleted_at__isnull".into(),
            value: CondValue::Bool(true)
        })
    );
    assert!(matches!(
        out.run_sql["users"].as_slice(),
        [Operation::RunSql { creates, .. }] if creates.len() == 1
    ));
    assert!(matches!(
        users.constraints.as_slice(),
        [c] if c.name == "users_email_at" && matches!(c.kind, ConstraintKind::Check { .. })
    ));
    // Once `orders` is representable, its composite key and its key without an index of
    // Chakra's name (a table-level foreign key) are kept.
    cat.tables.get_mut("orders").unwrap().columns.pop();
    let out = to_state(&cat, Dialect::Sqlite, None);
    let orders = &out.state.tables["orders"];
    assert_eq!(orders.fields.iter().filter(|f| f.primary_key).count(), 2);
    assert!(orders.field("author_id").unwrap().references.is_none());
    assert!(matches!(
        &orders.constraints[0].kind,
        ConstraintKind::ForeignKey { table, on_delete: OnDelete::Cascade, .. } if table == "users"
    ));
    // --tables: only those.
    let only = to_state(&cat, Dialect::Sqlite, Some(&["users".to_owned()]));
    assert_eq!(only.state.tables.keys().collect::<Vec<_>>(), ["users"]);
}

#[test]
fn files_are_makes_own_and_list_what_is_left_out() {
    let out = to_state(&sqlite_catalog(), Dialect::Sqlite, None);
    let files = initial_files(&out, std::path::Path::new("migrations"), "legacy").unwrap();
    assert_eq!(files.len(), 1);
    let text = &files[0].text;
    assert!(files[0].path.ends_with("legacy/0001_initial.toml"));
    assert!(text.contains("type = \"RunSQL\""), "{text}");
    assert!(text.contains("# - table orders is left out"), "{text}");
    // The written file reads back to the same state (the RunSQL declares its index).
    let m = crate::migrate::parse_migration(text, "x").unwrap();
    let replayed = crate::migrate::State::replay([&m]).unwrap();
    assert_eq!(
        crate::migrate::autodetect::normalize(&replayed).tables,
        crate::migrate::autodetect::normalize(&out.state).tables
    );
    assert!(replayed
        .raw
        .contains(&crate::migrate::operations::RawObject::Index(
            "users_odd".into()
        )));
}
