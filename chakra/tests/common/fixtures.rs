//! Shared fixtures: a small users/posts schema with known rows.
#![allow(dead_code)]

use chakra::dsl::*;
use chakra::sql::ddl;
use chakra::Pool;
use std::sync::Arc;

/// `users(id, username, age NULL, active)`.
pub fn users_meta() -> Arc<ModelMeta> {
    let mut id = FieldMeta::new("id", FieldType::BigInteger);
    id.primary_key = true;
    id.auto_increment = true;
    let mut username = FieldMeta::new(
        "username",
        FieldType::String {
            max_length: Some(50),
        },
    );
    username.unique = true;
    let mut age = FieldMeta::new("age", FieldType::Integer);
    age.nullable = true;
    let mut active = FieldMeta::new("active", FieldType::Boolean);
    active.default = Some(DefaultValue::Value(Value::Bool(true)));
    Arc::new(ModelMeta {
        name: "User".into(),
        table: "users".into(),
        fields: vec![id, username, age, active],
        relations: vec![],
        app: None,
        options: Default::default(),
        ordering: Vec::new(),
    })
}

/// `posts(id, author_id, title)`.
pub fn posts_meta() -> Arc<ModelMeta> {
    let mut id = FieldMeta::new("id", FieldType::BigInteger);
    id.primary_key = true;
    id.auto_increment = true;
    let author = FieldMeta::new("author_id", FieldType::BigInteger);
    let title = FieldMeta::new("title", FieldType::Text);
    Arc::new(ModelMeta {
        name: "Post".into(),
        table: "posts".into(),
        fields: vec![id, author, title],
        relations: vec![],
        app: None,
        ordering: Vec::new(),
        options: Default::default(),
    })
}

/// Creates the tables and inserts: users alice(30, active), albert(NULL, active),
/// bob(25, inactive), carol(40, active); posts: alice×2, bob×1.
pub async fn seed(pool: &Pool) {
    for m in [users_meta(), posts_meta()] {
        for sql in ddl::create_table(&m, pool.dialect()).unwrap() {
            pool.batch_execute(&sql).await.unwrap();
        }
    }
    let users = [
        ("alice", Some(30), true),
        ("albert", None, true),
        ("bob", Some(25), false),
        ("carol", Some(40), true),
    ];
    let rows = users
        .iter()
        .map(|(u, age, active)| {
            vec![
                ("username".to_owned(), Value::from(*u)),
                (
                    "age".to_owned(),
                    age.map(Value::I32).unwrap_or(Value::Null(ValueType::I32)),
                ),
                ("active".to_owned(), Value::Bool(*active)),
            ]
        })
        .collect();
    pool.execute(&insert_rows(&users_meta(), rows).unwrap().into())
        .await
        .unwrap();
    let posts = [(1i64, "hello"), (1, "again"), (3, "bob's post")];
    let rows = posts
        .iter()
        .map(|(a, t)| {
            vec![
                ("author_id".to_owned(), Value::I64(*a)),
                ("title".to_owned(), Value::from(*t)),
            ]
        })
        .collect();
    pool.execute(&insert_rows(&posts_meta(), rows).unwrap().into())
        .await
        .unwrap();
}

/// Column helpers.
pub fn u(col: &str, ty: ValueType) -> Expr {
    Expr::col("users", col, ty)
}
pub fn username() -> Expr {
    u("username", ValueType::Text)
}
pub fn age() -> Expr {
    u("age", ValueType::I32)
}
pub fn uid() -> Expr {
    u("id", ValueType::I64)
}

/// `SELECT users.username FROM users WHERE <filter> ORDER BY users.id`.
pub fn names_where(filter: Expr) -> Select {
    Select::from(Source::table("users"))
        .column(username(), ValueType::Text)
        .filter(filter)
        .order(uid(), false)
}

/// Text column of the rows.
pub fn texts(rows: &[Vec<Value>]) -> Vec<String> {
    rows.iter()
        .map(|r| r[0].as_str().expect("text cell").to_owned())
        .collect()
}
