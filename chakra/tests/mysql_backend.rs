//! MySQL/MariaDB-only behaviour: the flavour and version detected at connect, MySQL's
//! inserts without `RETURNING` (forced against MariaDB), text compared exactly under a
//! case-insensitive collation, one-off statements that do not pile up on the server, errors
//! recognised by number, a broken connection replaced, and the named refusals of this stage.
//! Every expectation is computed by hand or read with hand-written SQL on a connection of
//! the test's own (`mysql_async`), never through the code under test.

mod common;

use chakra::dialect::mysql::server::Flavour;
use chakra::dsl::*;
use chakra::{CompiledQuery, Dialect, Error, Pool, PoolOptions};
use common::fixtures::*;
use common::TestDb;
use mysql_async::prelude::Queryable;

/// A connection of the test's own to `db`.
async fn direct(db: &TestDb) -> mysql_async::Conn {
    mysql_async::Conn::from_url(&db.url).await.unwrap()
}

fn raw(sql: &str, binds: Vec<Value>, output: Vec<ValueType>) -> CompiledQuery {
    let parts: Vec<String> = sql.split('?').map(str::to_owned).collect();
    assert_eq!(parts.len(), binds.len() + 1, "{sql}");
    CompiledQuery {
        dialect: Dialect::Mysql,
        parts: parts.into(),
        binds,
        cacheable: true,
        output: output.into(),
    }
}

#[tokio::test]
async fn flavour_and_version_are_detected_at_connect() {
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    assert_eq!(pool.dialect(), Dialect::Mysql);
    let mut c = direct(&db).await;
    let version: String = c.query_first("SELECT VERSION()").await.unwrap().unwrap();
    let server = pool.acquire().await.unwrap().mysql_server().unwrap();
    let detected = if version.to_lowercase().contains("mariadb") {
        Flavour::Mariadb
    } else {
        Flavour::Mysql
    };
    // `CHAKRA_TEST_MYSQL_FLAVOUR` forces a flavour's code paths on the test pool: the pool
    // reports the forced flavour (and the server's own version).
    let expected = match std::env::var("CHAKRA_TEST_MYSQL_FLAVOUR").as_deref() {
        Ok("mysql") => Flavour::Mysql,
        Ok("mariadb") => Flavour::Mariadb,
        Ok("") | Err(_) => detected,
        Ok(other) => panic!("CHAKRA_TEST_MYSQL_FLAVOUR={other:?} is not a flavour"),
    };
    assert_eq!(server.flavour, expected, "{version}");
    let numbers: Vec<u16> = version
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(
        server.version,
        (numbers[0], numbers[1], numbers[2]),
        "{version}"
    );
    assert_eq!(server.returning(), expected == Flavour::Mariadb);
    // Both spellings of the URL reach the same server; without a forced flavour, the
    // detected one is reported.
    let maria = Pool::connect(&db.url.replacen("mysql://", "mariadb://", 1))
        .await
        .unwrap();
    assert_eq!(maria.dialect(), Dialect::Mysql);
    let plain = maria.acquire().await.unwrap().mysql_server().unwrap();
    assert_eq!(
        (plain.flavour, plain.version),
        (detected, server.version),
        "{version}"
    );
    // The URL can force a flavour's code paths; a bad one is named.
    let forced = Pool::connect(&format!("{}?flavour=mysql", db.url))
        .await
        .unwrap();
    let f = forced.acquire().await.unwrap().mysql_server().unwrap();
    assert_eq!((f.flavour, f.version), (Flavour::Mysql, server.version));
    let e = Pool::connect(&format!("{}?flavour=oracle", db.url))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not a MySQL flavour"), "{e}");
}

#[tokio::test]
async fn the_session_is_strict_utc_and_ansi() {
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    let q = raw(
        "SELECT @@SESSION.sql_mode, @@SESSION.time_zone",
        vec![],
        vec![ValueType::Text, ValueType::Text],
    );
    let row = &pool.fetch_compiled(&q).await.unwrap()[0];
    let Value::Text(mode) = &row[0] else {
        panic!("{row:?}")
    };
    for flag in [
        "ANSI_QUOTES",
        "STRICT_ALL_TABLES",
        "NO_BACKSLASH_ESCAPES",
        "NO_ZERO_DATE",
        "ERROR_FOR_DIVISION_BY_ZERO",
        "PIPES_AS_CONCAT",
    ] {
        assert!(mode.contains(flag), "{flag} missing from {mode}");
    }
    assert_eq!(row[1], Value::Text("+00:00".into()));
    // `"x"` is an identifier, a backslash is an ordinary character.
    let q = raw("SELECT 'a\\b' AS \"x\"", vec![], vec![ValueType::Text]);
    assert_eq!(
        pool.fetch_compiled(&q).await.unwrap(),
        vec![vec![Value::Text("a\\b".into())]]
    );
}

/// Inserts four users returning their rows on `pool`; returns them.
async fn insert_users(pool: &Pool, names: &[&str]) -> Vec<Vec<Value>> {
    let rows = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            vec![
                ("username".to_owned(), Value::from(*n)),
                ("age".to_owned(), Value::I32(20 + i as i32)),
            ]
        })
        .collect();
    pool.fetch(&insert_rows(&users_meta(), rows).unwrap().into())
        .await
        .unwrap()
}

#[tokio::test]
async fn inserts_return_their_rows_on_both_flavours() {
    for forced in [None, Some(Flavour::Mysql)] {
        let db = TestDb::mysql().await;
        let pool = Pool::connect_with(
            &db.url,
            PoolOptions {
                mysql_flavour: forced,
                ..PoolOptions::default()
            },
        )
        .await
        .unwrap();
        let flavour = pool
            .acquire()
            .await
            .unwrap()
            .mysql_server()
            .unwrap()
            .flavour;
        if forced.is_some() {
            assert_eq!(flavour, Flavour::Mysql);
        }
        seed(&pool).await;
        // seed() inserted 4 users (ids 1-4): the next come back with ids 5, 6, 7, and the
        // defaults the server filled in (active = TRUE).
        let got = insert_users(&pool, &["dan", "erin", "frank"]).await;
        let expected: Vec<Vec<Value>> = [(5, "dan", 20), (6, "erin", 21), (7, "frank", 22)]
            .iter()
            .map(|(id, n, age)| {
                vec![
                    Value::I64(*id),
                    Value::from(*n),
                    Value::I32(*age),
                    Value::Bool(true),
                ]
            })
            .collect();
        assert_eq!(got, expected, "flavour {flavour:?}");
        // One row, and a row whose key the insert names.
        let one = insert_users(&pool, &["gina"]).await;
        assert_eq!(one[0][0], Value::I64(8));
        let explicit = Insert {
            enum_types: Default::default(),
            table: "users".into(),
            columns: vec!["id".into(), "username".into()],
            rows: vec![
                vec![Value::I64(100), Value::from("hal")],
                vec![Value::I64(50), Value::from("ida")],
            ],
            returning: users_meta()
                .fields
                .iter()
                .map(|f| f.column_ref("users".to_owned()))
                .collect(),
        };
        let got = pool.fetch(&explicit.into()).await.unwrap();
        let ids: Vec<Value> = got.iter().map(|r| r[0].clone()).collect();
        assert_eq!(ids, [Value::I64(100), Value::I64(50)], "insert order kept");
        assert_eq!(got[1][1], Value::from("ida"));
        // What the table holds, read by hand.
        let mut c = direct(&db).await;
        let stored: Vec<(i64, String)> = c
            .query("SELECT id, username FROM users ORDER BY id")
            .await
            .unwrap();
        let names: Vec<(i64, &str)> = stored.iter().map(|(i, n)| (*i, n.as_str())).collect();
        assert_eq!(
            names,
            [
                (1, "alice"),
                (2, "albert"),
                (3, "bob"),
                (4, "carol"),
                (5, "dan"),
                (6, "erin"),
                (7, "frank"),
                (8, "gina"),
                (50, "ida"),
                (100, "hal"),
            ]
        );
        // A table keyed by text (no AUTO_INCREMENT): read back by the keys sent, with the
        // server's defaults; a table of two key columns is refused by name on MySQL.
        c.query_drop(
            "CREATE TABLE tags (name VARCHAR(20) PRIMARY KEY, n INT NOT NULL DEFAULT 7); \
             CREATE TABLE pairs (a INT, b INT, PRIMARY KEY (a, b))",
        )
        .await
        .unwrap();
        let tags = Insert {
            enum_types: Default::default(),
            table: "tags".into(),
            columns: vec!["name".into()],
            rows: vec![vec![Value::from("b")], vec![Value::from("a")]],
            returning: vec![
                ColumnRef::new("tags", "name", ValueType::Text),
                ColumnRef::new("tags", "n", ValueType::I32),
            ],
        };
        assert_eq!(
            pool.fetch(&tags.into()).await.unwrap(),
            vec![
                vec![Value::from("b"), Value::I32(7)],
                vec![Value::from("a"), Value::I32(7)]
            ],
            "flavour {flavour:?}"
        );
        let pairs = Insert {
            enum_types: Default::default(),
            table: "pairs".into(),
            columns: vec!["a".into(), "b".into()],
            rows: vec![vec![Value::I32(1), Value::I32(2)]],
            returning: vec![ColumnRef::new("pairs", "a", ValueType::I32)],
        };
        match flavour {
            Flavour::Mariadb => assert_eq!(
                pool.fetch(&pairs.into()).await.unwrap(),
                vec![vec![Value::I32(1)]]
            ),
            Flavour::Mysql => {
                let e = pool.fetch(&pairs.into()).await.unwrap_err().to_string();
                assert!(e.contains("one-column primary key"), "{e}");
            }
        }
        // A delete returning rows: MariaDB has it, MySQL refuses by name.
        let del = Statement::Delete(Delete {
            table: "users".into(),
            filter: Some(uid().eq(Expr::val(100i64))),
            returning: vec![ColumnRef::new("users", "username", ValueType::Text)],
        });
        match flavour {
            Flavour::Mariadb => assert_eq!(
                pool.fetch(&del).await.unwrap(),
                vec![vec![Value::from("hal")]]
            ),
            Flavour::Mysql => {
                let e = pool.fetch(&del).await.unwrap_err().to_string();
                assert!(e.contains("not yet supported on MySQL"), "{e}");
            }
        }
    }
}

#[tokio::test]
async fn text_is_compared_exactly_under_a_case_insensitive_collation() {
    let db = TestDb::mysql().await;
    let mut c = direct(&db).await;
    // A table Chakra did not create, in the server's case- and accent-insensitive collation.
    c.query_drop(
        "CREATE TABLE users (id BIGINT AUTO_INCREMENT PRIMARY KEY, username VARCHAR(50), \
         age INT NULL, active BOOLEAN NOT NULL DEFAULT TRUE) \
         CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
    )
    .await
    .unwrap();
    c.query_drop(
        "INSERT INTO users (username) VALUES ('alice'), ('Alice'), ('alice '), ('ALICE'), \
         ('café'), ('cafe'), ('a_b'), ('axb')",
    )
    .await
    .unwrap();
    let pool = db.pool().await;
    let names = |filter: Expr| {
        let pool = pool.clone();
        async move {
            let rows = pool.fetch(&names_where(filter).into()).await.unwrap();
            texts(&rows)
        }
    };
    // By hand: only the byte-equal row matches.
    assert_eq!(names(username().eq(Expr::val("alice"))).await, ["alice"]);
    assert_eq!(names(username().eq(Expr::val("cafe"))).await, ["cafe"]);
    assert_eq!(
        names(username().cmp(CmpOp::Ne, Expr::val("alice")))
            .await
            .len(),
        7,
        "every other row"
    );
    assert_eq!(
        names(username().is_in(vec![Value::from("Alice"), Value::from("cafe")])).await,
        ["Alice", "cafe"]
    );
    // LIKE: case-sensitive, wildcards escaped.
    let like = |text: &str, kind: LikeKind, ci: bool| username().like(kind, text, ci);
    assert_eq!(
        names(like("lic", LikeKind::Contains, false)).await,
        ["alice", "Alice", "alice "]
    );
    assert_eq!(
        names(like("LIC", LikeKind::Contains, false)).await,
        ["ALICE"]
    );
    assert_eq!(
        names(like("Al", LikeKind::StartsWith, false)).await,
        ["Alice"]
    );
    assert_eq!(
        names(like("a_", LikeKind::StartsWith, false)).await,
        ["a_b"]
    );
    assert_eq!(
        names(like("caf", LikeKind::Exact, false)).await,
        Vec::<String>::new()
    );
    // Case-insensitive lookups: case folded, accents and trailing spaces still count.
    assert_eq!(
        names(like("ALICE", LikeKind::Exact, true)).await,
        ["alice", "Alice", "ALICE"]
    );
    assert_eq!(names(like("CAFÉ", LikeKind::Exact, true)).await, ["café"]);
    // Regular expressions follow the lookup's case rule.
    let re = |p: &str, ci: bool| Expr::Regex {
        expr: Box::new(username()),
        pattern: p.into(),
        case_insensitive: ci,
    };
    assert_eq!(names(re("^Al", false)).await, ["Alice"]);
    assert_eq!(
        names(re("^al", true)).await,
        ["alice", "Alice", "alice ", "ALICE"]
    );
    // Sorting by code point, as on SQLite (uppercase before lowercase).
    let q = Select::from(Source::table("users"))
        .column(username(), ValueType::Text)
        .filter(like("a", LikeKind::StartsWith, true))
        .order(username(), false);
    let sorted: Vec<Value> = pool
        .fetch(&Statement::Select(q))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let expected: Vec<Value> = ["ALICE", "Alice", "a_b", "alice", "alice ", "axb"]
        .iter()
        .map(|s| Value::from(*s))
        .collect();
    assert_eq!(sorted, expected);
}

#[tokio::test]
async fn exact_text_lookups_still_use_the_columns_index() {
    let db = TestDb::mysql().await;
    let mut c = direct(&db).await;
    c.query_drop(
        "CREATE TABLE users (id BIGINT AUTO_INCREMENT PRIMARY KEY, username VARCHAR(50), \
         age INT NULL, active BOOLEAN NOT NULL DEFAULT TRUE, KEY users_username_idx (username)) \
         CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
    )
    .await
    .unwrap();
    let names: Vec<String> = (0..500).map(|i| format!("('user{i}')")).collect();
    c.query_drop(format!(
        "INSERT INTO users (username) VALUES {}, ('Alice'), ('alice')",
        names.join(", ")
    ))
    .await
    .unwrap();
    c.query_drop("ANALYZE TABLE users").await.unwrap();
    // Chakra's SQL reads identifiers in double quotes.
    c.query_drop("SET SESSION sql_mode = 'ANSI_QUOTES'")
        .await
        .unwrap();
    for filter in [
        username().eq(Expr::val("alice")),
        username().is_in(vec![Value::from("alice"), Value::from("user7")]),
    ] {
        let select = Select::from(Source::table("users"))
            .column(username(), ValueType::Text)
            .filter(filter.clone());
        let q = chakra::compile(&Statement::Select(select.clone()), Dialect::Mysql).unwrap();
        let params: Vec<mysql_async::Value> = q
            .binds
            .iter()
            .map(|v| match v {
                Value::Text(t) => mysql_async::Value::from(t.as_str()),
                other => panic!("{other:?}"),
            })
            .collect();
        let plan: Vec<mysql_async::Row> = c
            .exec(format!("EXPLAIN {}", q.sql()), params)
            .await
            .unwrap();
        // The plan's row for `users` (a list has a row of its own, the JSON_TABLE).
        let keys: Vec<(String, Option<String>)> = plan
            .iter()
            .map(|r| (r.get("table").unwrap(), r.get("key").unwrap()))
            .collect();
        assert!(
            keys.iter()
                .any(|(t, k)| t == "users" && k.as_deref() == Some("users_username_idx")),
            "{keys:?}: {}",
            q.sql()
        );
        // And the answer is still exact.
        let pool = db.pool().await;
        let rows = pool.fetch(&Statement::Select(select)).await.unwrap();
        let mut got = texts(&rows);
        got.sort();
        let want: Vec<&str> = if matches!(filter, Expr::In { .. }) {
            vec!["alice", "user7"]
        } else {
            vec!["alice"]
        };
        assert_eq!(got, want);
    }
}

#[tokio::test]
async fn explain_gives_the_servers_json_plan() {
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    seed(&pool).await;
    let stmt: Statement = names_where(username().eq(Expr::val("alice"))).into();
    let mut exec = &pool;
    let plan = chakra::query::explain::explain(&mut exec, &stmt)
        .await
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&plan).unwrap();
    assert!(doc.get("query_block").is_some(), "{plan}");
    assert!(plan.contains("\"users\""), "{plan}");
}

#[tokio::test]
async fn nulls_sort_last_ascending_and_first_descending() {
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    seed(&pool).await;
    for (desc, expected) in [
        (
            false,
            vec![
                Value::I32(25),
                Value::I32(30),
                Value::I32(40),
                Value::Null(ValueType::I32),
            ],
        ),
        (
            true,
            vec![
                Value::Null(ValueType::I32),
                Value::I32(40),
                Value::I32(30),
                Value::I32(25),
            ],
        ),
    ] {
        let q = Select::from(Source::table("users"))
            .column(age(), ValueType::I32)
            .order(age(), desc);
        let got: Vec<Value> = pool
            .fetch(&Statement::Select(q))
            .await
            .unwrap()
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(got, expected, "desc {desc}");
    }
}

/// `SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'`, read by hand.
async fn prepared_statements(c: &mut mysql_async::Conn) -> u64 {
    let row: (String, String) = c
        .query_first("SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'")
        .await
        .unwrap()
        .unwrap();
    row.1.parse().unwrap()
}

#[tokio::test]
async fn one_off_statements_do_not_pile_up_on_the_server() {
    let db = TestDb::mysql().await;
    let mut admin = direct(&db).await;
    let before = prepared_statements(&mut admin).await;
    let pool = db.pool().await;
    // One connection (a transaction), 20,000 statements of distinct text.
    let mut tx = pool.begin().await.unwrap();
    let mut peak = 0;
    for i in 0..20_000u64 {
        let q = raw(
            &format!("SELECT ? + {i}"),
            vec![Value::I64(1)],
            vec![ValueType::I64],
        );
        let rows = tx.fetch_compiled(&q).await.unwrap();
        assert_eq!(rows, vec![vec![Value::I64(1 + i as i64)]]);
        if i % 2_000 == 0 {
            peak = peak.max(prepared_statements(&mut admin).await);
        }
    }
    peak = peak.max(prepared_statements(&mut admin).await);
    tx.commit().await.unwrap();
    // The connection keeps at most its statement cache (256) prepared; other tests running
    // at the same time keep theirs: far below the 20,000 a leak would leave (and below
    // the server's default max_prepared_stmt_count, 16,382, which a leak would exhaust).
    assert!(
        peak < before + 2_000,
        "{peak} statements prepared (before: {before})"
    );
}

#[tokio::test]
async fn errors_are_recognised_by_number() {
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    seed(&pool).await;
    let mut c = direct(&db).await;
    c.query_drop(
        "CREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB; \
         CREATE TABLE child (id INT PRIMARY KEY, parent_id INT NOT NULL, note VARCHAR(3), \
         n TINYINT, CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id), \
         CONSTRAINT child_n_positive CHECK (n > 0)) ENGINE=InnoDB; \
         INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1, 'abc', 1);",
    )
    .await
    .unwrap();
    let exec = |sql: &str, binds: Vec<Value>| {
        let pool = pool.clone();
        let q = raw(sql, binds, vec![]);
        async move { pool.execute_compiled(&q).await.unwrap_err() }
    };
    // 1062: a duplicate of the unique username.
    let e = exec(
        "INSERT INTO \"users\" (\"username\") VALUES (?)",
        vec![Value::from("alice")],
    )
    .await;
    match &e {
        Error::UniqueViolation(v) => {
            assert_eq!(v.constraint.as_deref(), Some("users_username_key"), "{v:?}");
            assert_eq!(v.table.as_deref(), Some("users"));
        }
        other => panic!("{other:?}"),
    }
    // 1452: a child pointing at a missing parent; 1451: a parent still referenced.
    let e = exec("INSERT INTO child VALUES (2, 9, NULL, 1)", vec![]).await;
    match &e {
        Error::ForeignKeyViolation(v) => {
            assert_eq!(v.constraint.as_deref(), Some("child_parent_fk"));
            assert_eq!(v.column.as_deref(), Some("parent_id"));
        }
        other => panic!("{other:?}"),
    }
    let e = exec("DELETE FROM parent WHERE id = 1", vec![]).await;
    assert!(matches!(e, Error::DeleteRestricted(_)), "{e:?}");
    // 1048: NULL into a NOT NULL column.
    let e = exec(
        "INSERT INTO child VALUES (3, ?, NULL, 1)",
        vec![Value::Null(ValueType::I32)],
    )
    .await;
    match &e {
        Error::NotNullViolation(v) => assert_eq!(v.column.as_deref(), Some("parent_id")),
        other => panic!("{other:?}"),
    }
    // 3819 (MySQL) / 4025 (MariaDB): a CHECK constraint.
    let e = exec("INSERT INTO child VALUES (4, 1, NULL, -1)", vec![]).await;
    match &e {
        Error::CheckViolation(v) => {
            assert_eq!(v.constraint.as_deref(), Some("child_n_positive"), "{v:?}")
        }
        other => panic!("{other:?}"),
    }
    // 1406: too long for VARCHAR(3) (strict mode refuses instead of cutting); 1264: out of
    // range for TINYINT.
    let e = exec(
        "INSERT INTO child VALUES (5, 1, ?, 1)",
        vec![Value::from("abcd")],
    )
    .await;
    assert!(e.to_string().contains("error 1406"), "{e}");
    let e = exec("INSERT INTO child VALUES (6, 1, NULL, 1000)", vec![]).await;
    assert!(e.to_string().contains("error 1264"), "{e}");
    // Nothing of the refused rows was stored.
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM child").await.unwrap();
    assert_eq!(n, Some(1));
}

#[tokio::test]
async fn lock_waits_and_deadlocks_are_named() {
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    seed(&pool).await;
    let upd = |id: i64| {
        raw(
            "UPDATE users SET age = age + 1 WHERE id = ?",
            vec![Value::I64(id)],
            vec![],
        )
    };
    let lock = |id: i64, wait: &str| {
        raw(
            &format!("SELECT id FROM users WHERE id = ? FOR UPDATE{wait}"),
            vec![Value::I64(id)],
            vec![ValueType::I64],
        )
    };
    // NOWAIT on a locked row: a lock timeout (MariaDB 1205, MySQL 3572).
    let mut a = pool.begin().await.unwrap();
    a.execute_compiled(&upd(1)).await.unwrap();
    let mut b = pool.begin().await.unwrap();
    let e = b.fetch_compiled(&lock(1, " NOWAIT")).await.unwrap_err();
    assert!(matches!(e, Error::LockTimeout(_)), "{e:?}");
    assert!(e.retryable());
    // SKIP LOCKED passes the row by.
    assert_eq!(
        b.fetch_compiled(&lock(1, " SKIP LOCKED")).await.unwrap(),
        Vec::<Vec<Value>>::new()
    );
    b.rollback().await.unwrap();
    // A wait past innodb_lock_wait_timeout: 1205.
    let mut b = pool.begin().await.unwrap();
    b.batch_execute("SET SESSION innodb_lock_wait_timeout = 1")
        .await
        .unwrap();
    let e = b.execute_compiled(&upd(1)).await.unwrap_err();
    match &e {
        Error::LockTimeout(f) => assert!(f.message.contains("1205"), "{f:?}"),
        other => panic!("{other:?}"),
    }
    b.rollback().await.unwrap();
    // Opposite-order writers: one of them is chosen as the deadlock victim (1213).
    let mut b = pool.begin().await.unwrap();
    b.execute_compiled(&upd(2)).await.unwrap();
    let (two, one) = (upd(2), upd(1));
    let (ra, rb) = tokio::join!(a.execute_compiled(&two), async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        b.execute_compiled(&one).await
    });
    let a_lost = ra.is_err();
    let errors: Vec<Error> = [ra.err(), rb.err()].into_iter().flatten().collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(matches!(errors[0], Error::Deadlock(_)), "{:?}", errors[0]);
    assert!(errors[0].retryable());
    // InnoDB rolled the victim's whole transaction back: a later statement on it is refused
    // (it would run outside any transaction and commit at once), and nothing of it stays.
    let victim = if a_lost { &mut a } else { &mut b };
    let e = victim.execute_compiled(&upd(3)).await.unwrap_err();
    assert!(matches!(e, Error::Transaction(_)), "{e:?}");
    let _ = a.rollback().await;
    let _ = b.rollback().await;
    let mut c = direct(&db).await;
    let ages: Vec<Option<i32>> = c
        .query("SELECT age FROM users WHERE id IN (1, 2, 3) ORDER BY id")
        .await
        .unwrap();
    assert_eq!(
        ages,
        [Some(30), None, Some(25)],
        "seed's ages, nothing committed"
    );
}

#[tokio::test]
async fn the_statement_timeout_is_the_servers_and_named() {
    let db = TestDb::mysql().await;
    let pool = Pool::connect_with(
        &db.url,
        PoolOptions {
            statement_timeout: Some(std::time::Duration::from_millis(200)),
            ..PoolOptions::default()
        },
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let e = pool
        .fetch_compiled(&raw("SELECT SLEEP(5)", vec![], vec![ValueType::I64]))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::StatementTimeout(_)), "{e:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    // The connection is still good for the next statement.
    assert_eq!(
        pool.fetch_compiled(&raw("SELECT 1", vec![], vec![ValueType::I64]))
            .await
            .unwrap(),
        vec![vec![Value::I64(1)]]
    );
}

#[tokio::test]
async fn a_killed_connection_is_named_and_replaced() {
    let db = TestDb::mysql().await;
    let pool = Pool::connect_with(
        &db.url,
        PoolOptions {
            max_size: 1,
            ..PoolOptions::default()
        },
    )
    .await
    .unwrap();
    let id_q = raw("SELECT CONNECTION_ID()", vec![], vec![ValueType::I64]);
    let first = pool.fetch_compiled(&id_q).await.unwrap()[0][0].clone();
    let mut admin = direct(&db).await;
    admin
        .query_drop(format!("KILL CONNECTION {first}"))
        .await
        .unwrap();
    // The pooled connection is dead: the next statement either fails naming the lost
    // connection or (when the driver noticed first) runs on a fresh one; never a wrong row.
    match pool.fetch_compiled(&id_q).await {
        Err(e) => assert!(matches!(e, Error::ConnectionLost(_)), "{e:?}"),
        Ok(rows) => assert_ne!(rows[0][0], first),
    }
    let again = pool.fetch_compiled(&id_q).await.unwrap()[0][0].clone();
    assert_ne!(again, first, "the broken connection went back to the pool");
    // A connection killed while it sits idle past the ping interval is replaced at checkout:
    // the next statement runs, on a new connection.
    admin
        .query_drop(format!("KILL CONNECTION {again}"))
        .await
        .unwrap();
    tokio::time::sleep(
        chakra::dialect::mysql::pool::PING_AFTER_IDLE + std::time::Duration::from_millis(500),
    )
    .await;
    let third = pool.fetch_compiled(&id_q).await.unwrap()[0][0].clone();
    assert_ne!(third, again);
}

#[tokio::test]
async fn what_this_stage_refuses_is_named() {
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    seed(&pool).await;
    // (Migrations run on MySQL since the mysqlmig stage: migrate_mysql_ops.rs and others.)
    // Arrays, with JSON as the way out.
    let q = names_where(Expr::ArrayLen(Box::new(uid())).eq(Expr::val(1i64)));
    let e = pool
        .fetch(&Statement::Select(q))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("JSON"), "{e}");
    // DISTINCT ON.
    let mut q = names_where(Expr::Bool(true));
    q.distinct_on = vec![uid()];
    let e = pool
        .fetch(&Statement::Select(q))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("DISTINCT ON"), "{e}");
}

#[tokio::test]
async fn an_integer_list_is_one_bind_whatever_its_length() {
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    seed(&pool).await;
    // Ages 30, NULL, 25, 40 (fixtures::seed); the expected names computed by hand.
    let short = names_where(age().is_in(vec![Value::I32(25), Value::I32(40)]));
    let long_keys: Vec<Value> = (1000..2000).chain([30]).map(Value::I32).collect();
    let long = names_where(age().is_in(long_keys));
    let (a, b) = (
        chakra::sql::compile(&Statement::Select(short.clone()), Dialect::Mysql).unwrap(),
        chakra::sql::compile(&Statement::Select(long.clone()), Dialect::Mysql).unwrap(),
    );
    assert_eq!(
        a.parts, b.parts,
        "the SQL text does not depend on the list's length"
    );
    assert_eq!((a.binds.len(), b.binds.len()), (1, 1));
    let rows = pool.fetch(&Statement::Select(short)).await.unwrap();
    assert_eq!(texts(&rows), ["bob", "carol"]);
    let rows = pool.fetch(&Statement::Select(long)).await.unwrap();
    assert_eq!(texts(&rows), ["alice"]);
    // Negated: NULL ages are in neither answer, as with an explicit list.
    let not_in = names_where(age().is_in(vec![Value::I32(25), Value::I32(40)]).not());
    let rows = pool.fetch(&Statement::Select(not_in)).await.unwrap();
    assert_eq!(texts(&rows), ["alice"]);
    // 64-bit keys past 2^53 survive the JSON text exactly.
    let big = i64::MAX - 1;
    let q = Select::from(Source::table("users"))
        .column(uid(), ValueType::I64)
        .filter(uid().is_in(vec![Value::I64(big), Value::I64(1)]));
    let rows = pool.fetch(&Statement::Select(q)).await.unwrap();
    assert_eq!(rows, vec![vec![Value::I64(1)]]);
    let mut c = direct(&db).await;
    c.query_drop(format!("UPDATE users SET id = {big} WHERE id = 2"))
        .await
        .unwrap();
    let q = Select::from(Source::table("users"))
        .column(uid(), ValueType::I64)
        .filter(uid().is_in(vec![Value::I64(big)]));
    let rows = pool.fetch(&Statement::Select(q)).await.unwrap();
    assert_eq!(rows, vec![vec![Value::I64(big)]]);
}

/// The names the hand-written condition `sql` selects (a `WHERE` run on the test's own
/// connection, `?` for `binds`), in id order.
async fn names_by_hand(
    c: &mut mysql_async::Conn,
    sql: &str,
    binds: Vec<Option<&str>>,
) -> Vec<String> {
    let params: Vec<mysql_async::Value> = binds
        .into_iter()
        .map(|b| b.map_or(mysql_async::Value::NULL, mysql_async::Value::from))
        .collect();
    let rows: Vec<Option<String>> = c
        .exec(
            format!("SELECT username FROM users WHERE {sql} ORDER BY id"),
            params,
        )
        .await
        .unwrap();
    rows.into_iter().map(|r| r.expect("a name")).collect()
}

#[tokio::test]
async fn a_text_list_is_one_bind_whatever_its_length() {
    let db = TestDb::mysql().await;
    let mut c = direct(&db).await;
    // A table Chakra did not create, in a case- and accent-insensitive collation that is
    // not the server's default (a list compared in the default one would be error 1267).
    c.query_drop(
        "CREATE TABLE users (id BIGINT AUTO_INCREMENT PRIMARY KEY, username VARCHAR(50), \
         age INT NULL, active BOOLEAN NOT NULL DEFAULT TRUE, KEY users_username_idx (username)) \
         CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
    )
    .await
    .unwrap();
    let stored = [
        Some("alice"),
        Some("Alice"),
        Some("alice "),
        Some("café"),
        Some("cafe"),
        Some("say \"hi\""),
        Some("back\\slash"),
        Some("🦀 crab"),
        Some("tab\tnew\nline"),
        None,
    ];
    for name in stored {
        c.exec_drop("INSERT INTO users (username) VALUES (?)", (name,))
            .await
            .unwrap();
    }
    let pool = db.pool().await;
    let list = |names: &[Option<&str>]| -> Vec<Value> {
        names
            .iter()
            .map(|n| n.map_or(Value::Null(ValueType::Text), Value::from))
            .collect()
    };
    // The expected rows, by hand: the bytes of each name among the bytes of the list.
    fn by_hand<'a>(names: &[Option<&'a str>], negated: bool) -> (String, Vec<Option<&'a str>>) {
        let marks = vec!["CAST(? AS BINARY)"; names.len()].join(", ");
        let cond = format!("CAST(username AS BINARY) IN ({marks})");
        let cond = if negated {
            format!("NOT ({cond})")
        } else {
            cond
        };
        (cond, names.to_vec())
    }
    let lists: Vec<Vec<Option<&str>>> = vec![
        vec![Some("Alice")],
        vec![Some("alice"), Some("cafe"), Some("nobody")],
        vec![
            Some("alice "),
            Some("café"),
            Some("say \"hi\""),
            Some("back\\slash"),
        ],
        vec![Some("🦀 crab"), Some("tab\tnew\nline"), Some("ALICE")],
        vec![Some("alice"), None],
        (0..500)
            .map(|i| Some(if i == 250 { "cafe" } else { "nobody" }))
            .collect(),
    ];
    let mut texts_seen = Vec::new();
    for names in &lists {
        for negated in [false, true] {
            let mut filter = username().is_in(list(names));
            if negated {
                filter = filter.not();
            }
            let q = names_where(filter);
            let compiled = chakra::compile(&Statement::Select(q.clone()), Dialect::Mysql).unwrap();
            assert_eq!(compiled.binds.len(), 1, "{}", compiled.sql());
            texts_seen.push(compiled.sql());
            let got = texts(&pool.fetch(&Statement::Select(q)).await.unwrap());
            let (cond, binds) = by_hand(names, negated);
            let want = names_by_hand(&mut c, &cond, binds).await;
            assert_eq!(got, want, "{names:?}, negated: {negated}");
        }
    }
    // Spot checks of the hand-written answers themselves.
    assert_eq!(
        names_by_hand(&mut c, &by_hand(&lists[0], false).0, lists[0].clone()).await,
        ["Alice"]
    );
    assert!(
        names_by_hand(&mut c, &by_hand(&lists[4], true).0, lists[4].clone())
            .await
            .is_empty(),
        "NOT IN a list holding NULL is never true"
    );
    // Two lists of different lengths: the same statement text.
    texts_seen.sort();
    texts_seen.dedup();
    assert_eq!(
        texts_seen.len(),
        2,
        "one text for IN, one for NOT IN: {texts_seen:#?}"
    );
}

/// A model on the `docs` table of the JSON depth test (its field's column is not its name).
#[derive(Debug, Clone, chakra::Model)]
#[chakra(table = "docs")]
struct Doc {
    #[chakra(primary_key)]
    id: i64,
    #[chakra(column = "data")]
    payload: serde_json::Value,
}

#[tokio::test]
async fn json_past_mariadbs_depth_is_refused_by_name() {
    use chakra::Model;
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    let server = pool.acquire().await.unwrap().mysql_server().unwrap();
    let mut c = direct(&db).await;
    c.query_drop("CREATE TABLE docs (id BIGINT PRIMARY KEY, data JSON)")
        .await
        .unwrap();
    let nested = |n: usize| {
        let mut j = serde_json::Value::Null;
        for _ in 0..n {
            j = serde_json::Value::Array(vec![j]);
        }
        j
    };
    let insert = |table: &str, id: i64, j: serde_json::Value| {
        Statement::Insert(Insert {
            enum_types: Default::default(),
            table: table.into(),
            columns: vec!["id".into(), "data".into()],
            rows: vec![vec![Value::I64(id), Value::Json(j)]],
            returning: vec![],
        })
    };
    // 31 levels are stored and read back whole (read with the test's own SQL).
    pool.execute(&insert("docs", 1, nested(31))).await.unwrap();
    let text: String = c
        .query_first("SELECT data FROM docs WHERE id = 1")
        .await
        .unwrap()
        .unwrap();
    let back: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back, nested(31));
    if server.flavour != Flavour::Mariadb {
        return;
    }
    // The server's own limit, with hand-written SQL: 31 levels valid, 32 not.
    let valid: Vec<(i64, i64)> = c
        .query(
            "SELECT JSON_VALID(CONCAT(REPEAT('[', 31), REPEAT(']', 31))), \
             JSON_VALID(CONCAT(REPEAT('[', 32), REPEAT(']', 32)))",
        )
        .await
        .unwrap();
    assert_eq!(valid, [(1, 0)]);
    // Chakra names the limit, the model, the field and the depth instead of passing on a
    // check violation; nothing is written.
    let named = |e: Error, depth: &str| {
        match &e {
            Error::BadValue { model, field, .. } => {
                assert_eq!((model.as_str(), field.as_str()), ("Doc", "payload"), "{e}")
            }
            other => panic!("depth {depth}: {other:?}"),
        }
        let text = e.to_string();
        assert!(text.contains("bad value for Doc.payload"), "{text}");
        assert!(
            text.contains(&format!("nested {depth} levels deep")),
            "{text}"
        );
        assert!(
            text.contains("MariaDB stores JSON up to 31 levels"),
            "{text}"
        );
    };
    for (depth, shown) in [(32, "32"), (100, "100"), (150, "more than 100")] {
        // Through the executor (the statement's table and column lead to the model) ...
        let e = pool
            .execute(&insert("docs", 2, nested(depth)))
            .await
            .unwrap_err();
        named(e, shown);
        // ... and through the model: an insert, a save (an update by key) and an update of
        // the field.
        if depth <= 100 {
            let mut doc = Doc {
                id: 3,
                payload: nested(depth),
            };
            let e = Doc::insert_many(&pool, std::slice::from_mut(&mut doc))
                .await
                .unwrap_err();
            named(e, shown);
            doc.id = 1;
            named(doc.save(&pool).await.unwrap_err(), shown);
            let e = Doc::query()
                .filter(Doc::id().eq(1))
                .update()
                .set(Doc::payload(), nested(depth))
                .execute(&pool)
                .await
                .unwrap_err();
            named(e, shown);
        }
    }
    // A table no model maps: the table and column are named.
    c.query_drop("CREATE TABLE loose (id BIGINT PRIMARY KEY, data JSON)")
        .await
        .unwrap();
    let e = pool
        .execute(&insert("loose", 1, nested(32)))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("column loose.data"), "{e}");
    assert!(e.contains("nested 32 levels deep"), "{e}");
    let rows: Vec<i64> = c.query("SELECT id FROM docs ORDER BY id").await.unwrap();
    assert_eq!(rows, [1]);
    let back: String = c
        .query_first("SELECT data FROM docs WHERE id = 1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&back).unwrap(),
        nested(31)
    );
    let loose: Vec<i64> = c.query("SELECT id FROM loose").await.unwrap();
    assert!(loose.is_empty());
}

/// A model with a list field, on the `tagged` table of the array refusal test (its field's
/// column is not its name).
#[derive(Debug, Clone, chakra::Model)]
#[chakra(table = "tagged")]
struct Tagged {
    #[chakra(primary_key)]
    id: i64,
    #[chakra(column = "labels")]
    tags: Vec<String>,
}

#[tokio::test]
async fn an_array_is_refused_naming_the_model_and_field() {
    use chakra::Model;
    let db = TestDb::mysql().await;
    let pool = db.pool().await;
    let mut c = direct(&db).await;
    c.query_drop("CREATE TABLE tagged (id BIGINT PRIMARY KEY, labels JSON)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO tagged (id, labels) VALUES (1, NULL)")
        .await
        .unwrap();
    let tags = || Value::Array(ArrayValue::Text(vec![Some("x".into()), None]));
    let text = |v: &[&str]| {
        Value::Array(ArrayValue::Text(
            v.iter().map(|s| Some(s.to_string())).collect(),
        ))
    };
    let insert = |table: &str, id: i64| {
        Statement::Insert(Insert {
            enum_types: Default::default(),
            table: table.into(),
            columns: vec!["id".into(), "labels".into()],
            rows: vec![vec![Value::I64(id), tags()]],
            returning: vec![],
        })
    };
    let named = |e: Error, sent: Value| {
        match &e {
            Error::BadValue {
                model,
                field,
                value,
                ..
            } => {
                assert_eq!((model.as_str(), field.as_str()), ("Tagged", "tags"), "{e}");
                assert_eq!(value, &sent.to_string(), "{e}");
            }
            other => panic!("not named: {other:?}"),
        }
        let text = e.to_string();
        assert!(text.contains("bad value for Tagged.tags"), "{text}");
        assert!(text.contains("array values are not supported"), "{text}");
    };
    // Through the executor (the statement's table and column lead to the model) ...
    named(
        pool.execute(&insert("tagged", 2)).await.unwrap_err(),
        tags(),
    );
    // ... and through the model: an insert, a save (an update by key) and an update of the
    // field.
    let mut row = Tagged {
        id: 3,
        tags: vec!["a".into(), "b".into()],
    };
    named(
        Tagged::insert_many(&pool, std::slice::from_mut(&mut row))
            .await
            .unwrap_err(),
        text(&["a", "b"]),
    );
    row.id = 1;
    named(row.save(&pool).await.unwrap_err(), text(&["a", "b"]));
    let e = Tagged::query()
        .filter(Tagged::id().eq(1))
        .update()
        .set(Tagged::tags(), vec!["c".to_owned()])
        .execute(&pool)
        .await
        .unwrap_err();
    named(e, text(&["c"]));
    // A table no model maps: the table and column are named.
    c.query_drop("CREATE TABLE loose_tags (id BIGINT PRIMARY KEY, labels JSON)")
        .await
        .unwrap();
    let e = pool.execute(&insert("loose_tags", 1)).await.unwrap_err();
    assert!(matches!(e, Error::InvalidQuery(_)), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("column loose_tags.labels"), "{e}");
    assert!(e.contains("array values are not supported"), "{e}");
    // Nothing was written (read with the test's own SQL).
    let rows: Vec<(i64, Option<String>)> = c
        .query("SELECT id, labels FROM tagged ORDER BY id")
        .await
        .unwrap();
    assert_eq!(rows, [(1, None)]);
    let loose: Vec<i64> = c.query("SELECT id FROM loose_tags").await.unwrap();
    assert!(loose.is_empty());
}
