use super::*;
use crate::error::Error;
use crate::ir::{CmpOp, DatePart, Expr, LikeKind};
use crate::meta::{FieldMeta, ModelMeta, RelationKind, RelationMeta};
use crate::types::{FieldType, ValueType};
use crate::value::Value;

fn user() -> ModelMeta {
    let mut id = FieldMeta::new("id", FieldType::BigInteger);
    id.primary_key = true;
    id.auto_increment = true;
    let mut nick = FieldMeta::new("nick", FieldType::Text);
    nick.nullable = true;
    ModelMeta {
        name: "User".into(),
        table: "users".into(),
        fields: vec![
            id,
            FieldMeta::new(
                "username",
                FieldType::String {
                    max_length: Some(50),
                },
            ),
            nick,
            FieldMeta::new("age", FieldType::Integer),
            FieldMeta::new("created_at", FieldType::DateTime),
            FieldMeta::new("born", FieldType::Date),
            FieldMeta::new("data", FieldType::Json),
        ],
        relations: vec![RelationMeta {
            name: "posts".into(),
            kind: RelationKind::OneToMany,
            target: "Post".into(),
            foreign_key: Some("author_id".into()),
            back_populates: Some("author".into()),
        }],
        app: None,
        options: Default::default(),
        ordering: Vec::new(),
    }
}

fn col(name: &str, ty: ValueType) -> Expr {
    Expr::col("users", name, ty)
}

#[test]
fn plain_field_means_exact() {
    let m = user();
    let c = condition(&m, "age", Value::I64(3)).unwrap();
    assert_eq!(c.expr, col("age", ValueType::I32).eq(Expr::val(3i32)));
    assert!(c.nullable.is_empty());
}

#[test]
fn pk_alias_resolves_to_primary_key() {
    let m = user();
    let c = condition(&m, "pk__in", LookupArg::List(vec![Value::I64(1)])).unwrap();
    assert_eq!(c.expr, col("id", ValueType::I64).is_in(vec![Value::I64(1)]));
}

#[test]
fn exact_none_is_null_and_ne_none_is_not_null() {
    let m = user();
    let c = condition(&m, "nick", Value::Null(ValueType::Text)).unwrap();
    assert_eq!(c.expr, col("nick", ValueType::Text).is_null());
    let c = condition(&m, "nick__ne", Value::Null(ValueType::Text)).unwrap();
    assert_eq!(c.expr, col("nick", ValueType::Text).is_not_null());
}

#[test]
fn empty_in_is_false_without_error() {
    let m = user();
    let c = condition(&m, "age__in", LookupArg::List(vec![])).unwrap();
    assert_eq!(c.expr, col("age", ValueType::I32).is_in(vec![]));
}

#[test]
fn text_lookups_keep_user_text_literal() {
    let m = user();
    let c = condition(&m, "username__icontains", Value::from("50%_off")).unwrap();
    assert_eq!(
        c.expr,
        col("username", ValueType::Text).like(LikeKind::Contains, "50%_off", true)
    );
}

#[test]
fn date_part_transforms_take_a_further_lookup() {
    let m = user();
    let c = condition(&m, "created_at__year__gt", Value::I64(2005)).unwrap();
    let year = Expr::Extract {
        part: DatePart::Year,
        expr: Box::new(col("created_at", ValueType::DateTime)),
    };
    assert_eq!(c.expr, year.cmp(CmpOp::Gt, Expr::val(2005i64)));
    let d1 = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let d2 = chrono::NaiveDate::from_ymd_opt(2024, 2, 1).unwrap();
    let c = condition(
        &m,
        "created_at__date__range",
        LookupArg::Pair(Value::Date(d1).into(), Value::Date(d2).into()),
    )
    .unwrap();
    let date = Expr::DateOf(Box::new(col("created_at", ValueType::DateTime)));
    assert_eq!(c.expr, date.between(Expr::val(d1), Expr::val(d2)));
}

#[test]
fn hour_does_not_apply_to_dates() {
    let m = user();
    match condition(&m, "born__hour", Value::I64(1)) {
        Err(Error::UnknownLookup {
            model,
            field,
            lookup,
            choices,
        }) => {
            assert_eq!((model.as_str(), field.as_str()), ("User", "born"));
            assert_eq!(lookup, "hour");
            assert!(choices.contains(&"year".to_owned()));
            assert!(!choices.contains(&"hour".to_owned()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_field_names_model_and_choices() {
    let m = user();
    let e = condition(&m, "usernme__startswith", Value::from("a")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("User") && msg.contains("\"usernme\""), "{msg}");
    assert!(msg.contains("username") && msg.contains("posts"), "{msg}");
}

#[test]
fn unknown_lookup_names_field_and_choices() {
    let m = user();
    let e = condition(&m, "username__startwith", Value::from("a")).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("\"startwith\"") && msg.contains("User.username"),
        "{msg}"
    );
    assert!(
        msg.contains("startswith") && msg.contains("icontains"),
        "{msg}"
    );
    // Text lookups do not apply to integers.
    assert!(matches!(
        condition(&m, "age__contains", Value::from("1")),
        Err(Error::UnknownLookup { .. })
    ));
    // A lookup must come last.
    assert!(matches!(
        condition(&m, "username__exact__gt", Value::from("a")),
        Err(Error::UnknownLookup { .. })
    ));
}

#[test]
fn relation_traversal_is_refused_clearly() {
    let m = user();
    let e = condition(&m, "posts__title", Value::from("a")).unwrap_err();
    assert!(matches!(e, Error::InvalidQuery(_)));
    assert!(e.to_string().contains("User.posts"), "{e}");
}

#[test]
fn wrong_value_type_names_model_field_and_value() {
    let m = user();
    match condition(&m, "age__gt", Value::from("ten")) {
        Err(Error::BadValue {
            model,
            field,
            value,
            expected,
            ..
        }) => {
            assert_eq!(model, "User");
            assert_eq!(field, "age__gt");
            assert_eq!(value, "\"ten\"");
            assert_eq!(expected, "Integer");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        condition(&m, "age", Value::I64(i64::MAX)),
        Err(Error::BadValue { .. })
    ));
    assert!(matches!(
        condition(&m, "age__gt", Value::Null(ValueType::I32)),
        Err(Error::BadValue { .. })
    ));
    assert!(matches!(
        condition(&m, "nick__isnull", Value::from("yes")),
        Err(Error::BadValue { .. })
    ));
}

#[test]
fn exclude_on_nullable_field_keeps_nulls() {
    let m = user();
    let c = condition(&m, "nick", Value::from("x")).unwrap();
    let q = QNode::Not(Box::new(QNode::Leaf(c)));
    let eq = col("nick", ValueType::Text).eq(Expr::val("x"));
    assert_eq!(
        q.lower(),
        Expr::Or(vec![
            Expr::Not(Box::new(eq.clone())),
            Expr::IsNull {
                expr: Box::new(eq),
                negated: false
            }
        ])
    );
    // Not nullable: no guard.
    let c = condition(&m, "age", Value::I32(1)).unwrap();
    let q = QNode::Not(Box::new(QNode::Leaf(c)));
    assert_eq!(
        q.lower(),
        Expr::Not(Box::new(col("age", ValueType::I32).eq(Expr::val(1i32))))
    );
}

#[test]
fn ne_is_sql_not_equal() {
    let m = user();
    let c = condition(&m, "nick__ne", Value::from("x")).unwrap();
    let nick = col("nick", ValueType::Text);
    assert_eq!(c.expr, nick.cmp(CmpOp::Ne, Expr::val("x")));
    assert!(c.may_be_null());
}

#[test]
fn q_trees_flatten() {
    let m = user();
    let a = QNode::Leaf(condition(&m, "age", Value::I32(1)).unwrap());
    let b = QNode::Leaf(condition(&m, "age", Value::I32(2)).unwrap());
    let q = QNode::And(vec![
        QNode::Or(vec![a.clone(), b.clone()]),
        QNode::And(vec![a]),
    ]);
    match q.lower() {
        Expr::And(items) => {
            assert_eq!(items.len(), 2);
            assert!(matches!(items[0], Expr::Or(_)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(QNode::And(vec![]).lower(), Expr::Bool(true));
    assert_eq!(QNode::Or(vec![]).lower(), Expr::Bool(false));
}

#[test]
fn field_expressions_compare_columns() {
    let m = user();
    let other = col("age", ValueType::I32);
    let c = condition(
        &m,
        "age__lt",
        LookupArg::Scalar(Operand::Expr(other.clone())),
    )
    .unwrap();
    assert_eq!(c.expr, other.clone().cmp(CmpOp::Lt, other));
}

#[test]
fn json_has_no_ordering_lookups_and_reads_other_parts_as_keys() {
    let m = user();
    // As in Django, `data__gt` is the key "gt" (compared with `exact`); ordering lookups
    // apply after a key (`data__n__gt`).
    let key = condition(&m, "data__gt", Value::Json(1.into())).unwrap();
    assert!(matches!(key.expr, Expr::Compare { op: CmpOp::Eq, .. }));
    let ordered = condition(&m, "data__n__gt", Value::Json(1.into())).unwrap();
    assert!(matches!(ordered.expr, Expr::Compare { op: CmpOp::Gt, .. }));
    assert!(condition(&m, "data__isnull", Value::Bool(true)).is_ok());
    assert!(matches!(
        condition(&m, "data__a.b", Value::Json(1.into())),
        Err(Error::UnknownLookup { .. })
    ));
}
