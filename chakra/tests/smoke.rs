mod common;
use chakra::dsl::*;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_both() {
    for d in BOTH {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let ddl = match d {
            chakra::Dialect::Postgres => {
                "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, at TIMESTAMPTZ)"
            }
            chakra::Dialect::Sqlite => {
                "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, at TEXT)"
            }
        };
        pool.batch_execute(ddl).await.unwrap();
        let ins = Insert {
            table: "t".into(),
            columns: vec!["name".into(), "at".into()],
            rows: vec![
                vec!["a%b".into(), Value::DateTime(chrono::Utc::now())],
                vec!["x".into(), Value::Null(ValueType::DateTime)],
            ],
            returning: vec![ColumnRef::new("t", "id", ValueType::I64)],
        };
        let ids = pool.fetch(&ins.into()).await.unwrap();
        assert_eq!(ids.len(), 2, "{d:?}");
        let sel = Select::from(Source::table("t"))
            .column(Expr::col("t", "id", ValueType::I64), ValueType::I64)
            .column(Expr::col("t", "name", ValueType::Text), ValueType::Text)
            .column(
                Expr::col("t", "at", ValueType::DateTime),
                ValueType::DateTime,
            )
            .filter(Expr::col("t", "name", ValueType::Text).like(LikeKind::Contains, "%", false));
        let rows = pool.fetch(&sel.into()).await.unwrap();
        assert_eq!(rows.len(), 1, "{d:?}: {rows:?}");
        let sel = Select::from(Source::table("t"))
            .column(Expr::col("t", "id", ValueType::I64), ValueType::I64)
            .filter(Expr::col("t", "id", ValueType::I64).is_in(vec![Value::I64(1), Value::I64(2)]));
        assert_eq!(
            pool.fetch(&Statement::Count(sel)).await.unwrap(),
            vec![vec![Value::I64(2)]]
        );
    }
}
