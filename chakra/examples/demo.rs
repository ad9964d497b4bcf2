//! The README's demo: a model described once, its table created, rows written and queried
//! through the IR, the SQL compiler and the executor, on the default database
//! (`CHAKRA_DATABASE_URL`, else `chakra.toml`, else `sqlite://chakra.db`).

use chakra::dsl::{
    insert_rows, FieldMeta, FieldType, LikeKind, ModelMeta, ModelQuery, Statement, Value,
};
use chakra::sql::ddl;
use chakra::Pool;
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> chakra::Result<()> {
    let pool = Pool::connect_default().await?;
    println!("connected: {:?}", pool.dialect());

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
    let email = FieldMeta::new(
        "email",
        FieldType::String {
            max_length: Some(255),
        },
    );
    let mut created_at = FieldMeta::new("created_at", FieldType::DateTime);
    created_at.default = Some(chakra::dsl::DefaultValue::Now);
    let user = Arc::new(ModelMeta {
        name: "User".into(),
        table: "users".into(),
        fields: vec![id, username, email, created_at],
        relations: vec![],
    });

    pool.batch_execute(&ddl::drop_table(&user)?).await?;
    for sql in ddl::create_table(&user, pool.dialect())? {
        pool.batch_execute(&sql).await?;
    }

    let rows = ["alice", "albert", "bob", "50%_off"]
        .iter()
        .map(|u| {
            vec![
                ("username".to_owned(), Value::from(*u)),
                ("email".to_owned(), Value::from(format!("{u}@example.com"))),
            ]
        })
        .collect();
    let inserted = pool.fetch(&insert_rows(&user, rows)?.into()).await?;
    println!(
        "inserted {} users, ids {:?}",
        inserted.len(),
        inserted
            .iter()
            .map(|r| r[0].to_string())
            .collect::<Vec<_>>()
    );

    let q = ModelQuery::new(user.clone());
    let starts_with_a = q
        .clone()
        .filter(q.column("username")?.like(LikeKind::StartsWith, "a", false))
        .order_by_name("-username")?;
    let compiled = pool.compile(&Statement::Select(starts_with_a.select()))?;
    println!("SQL: {}", compiled.sql());
    for row in pool.fetch_compiled(&compiled).await? {
        println!("  {} <{}> created {}", row[1], row[2], row[3]);
    }

    let literal = q
        .clone()
        .filter(q.column("username")?.like(LikeKind::Contains, "%_", false));
    let n = pool.fetch(&literal.count()).await?;
    println!("usernames containing a literal \"%_\": {}", n[0][0]);

    match pool
        .fetch(
            &insert_rows(
                &user,
                vec![vec![
                    ("username".to_owned(), Value::from("alice")),
                    ("email".to_owned(), Value::from("again@example.com")),
                ]],
            )?
            .into(),
        )
        .await
    {
        Err(e) => println!("duplicate username rejected: {e}"),
        Ok(_) => println!("unexpected: duplicate accepted"),
    }
    Ok(())
}
