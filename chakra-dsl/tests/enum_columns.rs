//! The IR carries each enum column's enum type, set when lowering from `ModelMeta`: column
//! references (selects, filters, returning) and the written columns of inserts, upserts,
//! updates, bulk updates and the session's compare-and-set update. Columns of other types
//! carry none. (A backend with native enum types casts binds meeting these columns.)

use chakra_dsl::ir::walk::{walk_expr, walk_select, VisitMut};
use chakra_dsl::lookup::{condition, LookupArg};
use chakra_dsl::tracked::{guarded_update, Change};
use chakra_dsl::{
    bulk_update_rows, insert_rows, upsert_rows, Expr, FieldMeta, FieldType, ModelMeta, ModelQuery,
    Statement, Value,
};
use std::sync::Arc;

fn meta() -> ModelMeta {
    let mut id = FieldMeta::new("id", FieldType::BigInteger);
    id.primary_key = true;
    id.auto_increment = true;
    let mut status = FieldMeta::new(
        "status",
        FieldType::Enum {
            name: "ticket_status".into(),
            values: vec!["open".into(), "closed".into()],
        },
    );
    status.column = "state".into();
    let title = FieldMeta::new("title", FieldType::Text);
    ModelMeta {
        name: "Ticket".into(),
        table: "tickets".into(),
        fields: vec![id, status, title],
        relations: Vec::new(),
        app: None,
        options: Default::default(),
        ordering: Vec::new(),
    }
}

/// Every column reference in an expression or select, as (column, enum type).
#[derive(Default)]
struct Columns(Vec<(String, Option<String>)>);

impl VisitMut for Columns {
    fn expr(&mut self, e: &mut Expr) {
        if let Expr::Column(c) = e {
            self.0.push((c.column.clone(), c.enum_type.clone()));
        }
    }
}

fn enum_of(cols: &Columns, column: &str) -> Vec<Option<String>> {
    cols.0
        .iter()
        .filter(|(c, _)| c == column)
        .map(|(_, t)| t.clone())
        .collect()
}

fn ticket_status() -> Option<String> {
    Some("ticket_status".into())
}

#[test]
fn selects_and_filters_carry_the_enum_type() {
    let m = Arc::new(meta());
    let cond = condition(
        &m,
        "status__in",
        LookupArg::List(vec![Value::Text("open".into())]),
    )
    .unwrap();
    let mut select = ModelQuery::new(m.clone()).filter(cond.expr).select();
    let mut cols = Columns::default();
    walk_select(&mut select, &mut cols);
    let state = enum_of(&cols, "state");
    // The selected column and the filtered one.
    assert!(state.len() >= 2, "{:?}", cols.0);
    assert!(state.iter().all(|t| *t == ticket_status()), "{:?}", cols.0);
    assert!(enum_of(&cols, "title").iter().all(Option::is_none));
    assert!(enum_of(&cols, "id").iter().all(Option::is_none));
}

#[test]
fn inserts_and_upserts_name_the_enum_columns() {
    let m = meta();
    let ins = insert_rows(
        &m,
        vec![vec![
            ("status".into(), Value::Text("open".into())),
            ("title".into(), Value::Text("a".into())),
        ]],
    )
    .unwrap();
    assert_eq!(ins.enum_types.get("state"), Some("ticket_status"));
    assert_eq!(ins.enum_types.get("title"), None);
    let returned: Vec<_> = ins
        .returning
        .iter()
        .map(|c| (c.column.as_str(), c.enum_type.as_deref()))
        .collect();
    assert_eq!(
        returned,
        [
            ("id", None),
            ("state", Some("ticket_status")),
            ("title", None)
        ]
    );
    let up = upsert_rows(
        &m,
        vec![vec![
            ("id".into(), Value::I64(1)),
            ("status".into(), Value::Text("closed".into())),
        ]],
        &["id".into()],
        &["status".into()],
    )
    .unwrap();
    assert_eq!(up.insert.enum_types.get("state"), Some("ticket_status"));
}

#[test]
fn updates_name_the_enum_columns() {
    let m = Arc::new(meta());
    let Statement::Update(u) = ModelQuery::new(m.clone())
        .update(vec![(
            "status".into(),
            Expr::Value(Value::Text("closed".into())),
        )])
        .unwrap()
    else {
        panic!("an update")
    };
    assert_eq!(u.enum_types.get("state"), Some("ticket_status"));
    assert_eq!(u.enum_types.get("title"), None);

    let b = bulk_update_rows(
        &m,
        &["status".into(), "title".into()],
        vec![(
            vec![Value::I64(1)],
            vec![Value::Text("open".into()), Value::Text("t".into())],
        )],
    )
    .unwrap();
    assert_eq!(b.enum_types.get("state"), Some("ticket_status"));
    assert_eq!(b.enum_types.get("title"), None);

    // The session's compare-and-set update: the SET and the comparison with the read value.
    let (stmt, _) = guarded_update(
        &m,
        vec![Value::I64(1)],
        &[Change {
            field: 1,
            new: Value::Text("closed".into()),
            read: Value::Text("open".into()),
        }],
        None,
    )
    .unwrap();
    let Statement::Update(mut u) = stmt else {
        panic!("an update")
    };
    assert_eq!(u.enum_types.get("state"), Some("ticket_status"));
    let mut cols = Columns::default();
    walk_expr(u.filter.as_mut().unwrap(), &mut cols);
    assert_eq!(enum_of(&cols, "state"), [ticket_status()]);
    assert_eq!(enum_of(&cols, "id"), [None]);
}
