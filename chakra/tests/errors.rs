//! Each error kind is produced by a real failing operation, and its message names what it
//! must (model, field, value, constraint, URL problem).

mod common;

use chakra::dsl::*;
use chakra::{Dialect, Pool};
use common::fixtures::*;
use common::{TestDb, ALL3};

async fn schema(pool: &Pool) {
    let ddl = match pool.dialect() {
        Dialect::Postgres => [
            "CREATE TABLE accounts (id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL CONSTRAINT accounts_email_key UNIQUE, balance INTEGER NOT NULL CONSTRAINT balance_not_negative CHECK (balance >= 0))",
            "CREATE TABLE payments (id BIGSERIAL PRIMARY KEY, account_id BIGINT NOT NULL CONSTRAINT payments_account_fk REFERENCES accounts (id))",
        ],
        Dialect::Sqlite => [
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL CONSTRAINT accounts_email_key UNIQUE, balance INTEGER NOT NULL CONSTRAINT balance_not_negative CHECK (balance >= 0))",
            "CREATE TABLE payments (id INTEGER PRIMARY KEY AUTOINCREMENT, account_id BIGINT NOT NULL CONSTRAINT payments_account_fk REFERENCES accounts (id))",
        ],
        Dialect::Mysql => [
            "CREATE TABLE accounts (id BIGINT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(100) NOT NULL, balance INTEGER NOT NULL, CONSTRAINT accounts_email_key UNIQUE (email), CONSTRAINT balance_not_negative CHECK (balance >= 0))",
            "CREATE TABLE payments (id BIGINT AUTO_INCREMENT PRIMARY KEY, account_id BIGINT NOT NULL, CONSTRAINT payments_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id))",
        ],
    };
    for s in ddl {
        pool.batch_execute(s).await.unwrap();
    }
}

fn account(email: Value, balance: Value) -> Statement {
    Insert {
        enum_types: Default::default(),
        table: "accounts".into(),
        columns: vec!["email".into(), "balance".into()],
        rows: vec![vec![email, balance]],
        returning: vec![],
    }
    .into()
}

fn count_accounts() -> Statement {
    Statement::Count(
        Select::from(Source::table("accounts"))
            .column(Expr::col("accounts", "id", ValueType::I64), ValueType::I64),
    )
}

#[tokio::test]
async fn constraint_violations_are_told_apart_and_named() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        schema(&pool).await;
        pool.execute(&account("a@x".into(), Value::I32(10)))
            .await
            .unwrap();

        let e = pool
            .execute(&account("a@x".into(), Value::I32(5)))
            .await
            .unwrap_err();
        let Error::UniqueViolation(v) = &e else {
            panic!("{d:?}: {e:?}")
        };
        // Table and column on both backends (PostgreSQL's column read from its detail);
        // the constraint's name where the backend gives it (PostgreSQL).
        assert_eq!(
            (v.table.as_deref(), v.column.as_deref()),
            (Some("accounts"), Some("email")),
            "{d:?}"
        );
        match d {
            Dialect::Postgres => {
                assert_eq!(v.constraint.as_deref(), Some("accounts_email_key"));
                assert_eq!(
                    v.detail.as_deref(),
                    Some("Key (email)=(a@x) already exists.")
                );
            }
            Dialect::Sqlite => assert_eq!(v.detail.as_deref(), Some(v.message.as_str())),
            // The key's name from the message, its first column from the catalog.
            Dialect::Mysql => {
                assert_eq!(v.constraint.as_deref(), Some("accounts_email_key"));
                assert_eq!(v.detail.as_deref(), Some(v.message.as_str()));
            }
        }
        assert!(e.to_string().contains("unique violation"), "{e}");
        assert!(
            e.to_string().contains("accounts_email_key")
                || e.to_string().contains("accounts.email"),
            "{e}"
        );

        let e = pool
            .execute(&account("b@x".into(), Value::I32(-1)))
            .await
            .unwrap_err();
        let Error::CheckViolation(v) = &e else {
            panic!("{d:?}: {e:?}")
        };
        assert_eq!(
            v.constraint.as_deref(),
            Some("balance_not_negative"),
            "{d:?}"
        );
        assert!(e.to_string().contains("balance_not_negative"), "{e}");

        let e = pool
            .execute(&account(Value::Null(ValueType::Text), Value::I32(1)))
            .await
            .unwrap_err();
        let Error::NotNullViolation(v) = &e else {
            panic!("{d:?}: {e:?}")
        };
        assert_eq!(v.column.as_deref(), Some("email"), "{d:?}: {e}");
        assert!(e.to_string().contains("email"), "{e}");

        let pay = Insert {
            enum_types: Default::default(),
            table: "payments".into(),
            columns: vec!["account_id".into()],
            rows: vec![vec![Value::I64(999)]],
            returning: vec![],
        };
        let e = pool.execute(&pay.into()).await.unwrap_err();
        let Error::ForeignKeyViolation(v) = &e else {
            panic!("{d:?}: {e:?}")
        };
        if d != Dialect::Sqlite {
            assert_eq!(v.constraint.as_deref(), Some("payments_account_fk"));
        }
        assert!(e.to_string().contains("foreign key violation"), "{e}");

        // Nothing was lost or half-written.
        assert_eq!(
            pool.fetch(&count_accounts()).await.unwrap(),
            vec![vec![Value::I64(1)]]
        );
    }
}

#[tokio::test]
async fn get_reports_not_found_and_more_than_one_with_the_model() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        seed(&pool).await;
        let q = ModelQuery::new(users_meta());
        let e = pool
            .fetch_one(
                &q.clone()
                    .filter(pk_filter(&q.meta, Value::I64(99)).unwrap())
                    .select(),
                "User",
                Some("id=99".into()),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
        assert_eq!(e.to_string(), "User matching query does not exist (id=99)");
        let e = pool
            .fetch_one(&q.clone().select(), "User", None)
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::MultipleObjectsReturned { count: 4, .. }),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "get() returned more than one User: it returned 4"
        );
        let row = pool
            .fetch_one(
                &q.clone()
                    .filter(pk_filter(&q.meta, Value::I64(2)).unwrap())
                    .select(),
                "User",
                None,
            )
            .await
            .unwrap();
        assert_eq!(row[1], Value::from("albert"));
    }
}

#[tokio::test]
async fn unknown_field_and_bad_value_name_model_field_value_and_choices() {
    let q = ModelQuery::new(users_meta());
    let e = q.column("usrname").unwrap_err();
    assert!(matches!(e, Error::UnknownField { .. }));
    assert_eq!(
        e.to_string(),
        "User has no field named \"usrname\"; choices are: id, username, age, active"
    );
    let e = q.clone().order_by_name("-nope").unwrap_err();
    assert!(e.to_string().contains("\"nope\""), "{e}");

    let e = insert_rows(
        &users_meta(),
        vec![vec![("age".to_owned(), Value::from("thirty"))]],
    )
    .unwrap_err();
    assert!(matches!(e, Error::BadValue { .. }));
    assert_eq!(
        e.to_string(),
        "bad value for User.age: \"thirty\" is not a valid Integer (got a String)"
    );
    let e = insert_rows(
        &users_meta(),
        vec![vec![("username".to_owned(), Value::from("x".repeat(51)))]],
    )
    .unwrap_err();
    assert!(e.to_string().contains("User.username"), "{e}");
    assert!(e.to_string().contains("max_length 50"), "{e}");
    let e = q
        .update(vec![(
            "active".into(),
            Expr::Value(Value::Null(ValueType::Bool)),
        )])
        .unwrap_err();
    assert!(e.to_string().contains("User.active"), "{e}");
    assert!(e.to_string().contains("not nullable"), "{e}");
}

#[tokio::test]
async fn bad_urls_and_unreachable_servers_say_what_is_wrong() {
    let cases = [
        ("", "it is empty"),
        ("sqlite://", "no file path"),
        ("mysql://", "no host"),
        ("mariadb://u:secret@host:notaport/db", "invalid port"),
        ("http://example.com", "unknown scheme \"http\""),
        ("postgres://", "no host"),
        ("postgres://u:secret@host:notaport/db", "invalid port"),
    ];
    for (url, reason) in cases {
        let e = Pool::connect(url).await.unwrap_err();
        assert!(matches!(e, Error::InvalidUrl { .. }), "{url}: {e:?}");
        assert!(e.to_string().contains(reason), "{url}: {e}");
        assert!(!e.to_string().contains("secret"), "password leaked: {e}");
    }
    let e = Pool::connect("postgres://postgres:pw@127.0.0.1:1/nodb")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Connection(_)), "{e:?}");
    assert!(e.to_string().contains("127.0.0.1:1"), "{e}");
    assert!(!e.to_string().contains("pw@"), "password leaked: {e}");
    let e = Pool::connect("sqlite:///nonexistent-dir/sub/x.db")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Connection(_)), "{e:?}");
    assert!(e.to_string().contains("nonexistent-dir"), "{e}");

    let e = chakra::config::url_from_toml("[database\nurl = 1").unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    let e = chakra::config::url_from_toml("[database]\nurl = 1").unwrap_err();
    assert!(e.to_string().contains("must be a string"), "{e}");
    assert_eq!(
        chakra::config::url_from_toml("[database]\nurl = \"sqlite://x.db\"").unwrap(),
        "sqlite://x.db"
    );
}

#[tokio::test]
async fn a_failed_statement_mid_transaction_loses_nothing() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        schema(&pool).await;
        pool.execute(&account("keep@x".into(), Value::I32(1)))
            .await
            .unwrap();

        // A failure poisons the transaction on both backends: commit refuses and rolls back.
        let mut tx = pool.begin().await.unwrap();
        tx.execute(&account("new@x".into(), Value::I32(1)))
            .await
            .unwrap();
        let e = tx
            .execute(&account("keep@x".into(), Value::I32(1)))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::UniqueViolation(_)));
        assert!(tx.failure().is_some());
        let e = tx.commit().await.unwrap_err();
        assert!(e.to_string().contains("rolled back"), "{e}");
        assert_eq!(
            pool.fetch(&count_accounts()).await.unwrap(),
            vec![vec![Value::I64(1)]],
            "{d:?}: nothing from the failed transaction was kept"
        );

        // A savepoint contains the failure: roll it back and carry on.
        let mut tx = pool.begin().await.unwrap();
        tx.execute(&account("one@x".into(), Value::I32(1)))
            .await
            .unwrap();
        tx.savepoint().await.unwrap();
        tx.execute(&account("keep@x".into(), Value::I32(1)))
            .await
            .unwrap_err();
        tx.rollback_to_savepoint().await.unwrap();
        assert!(tx.failure().is_none());
        tx.execute(&account("two@x".into(), Value::I32(1)))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            pool.fetch(&count_accounts()).await.unwrap(),
            vec![vec![Value::I64(3)]],
            "{d:?}"
        );
        let status = pool.status();
        assert_eq!(status.size, status.available, "{d:?}: no connection leaked");
    }
}
