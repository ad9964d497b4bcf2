//! Upsert from Rust (`chakra::upsert(&mut rows).on_conflict(…).do_update(…)` /
//! `.do_nothing()`) on SQLite and PostgreSQL, with many rows (the unnest form on
//! PostgreSQL) and the written-back keys.

mod common;

use chakra::prelude::*;
use common::ALL3;

#[derive(Debug, Clone, Model)]
#[chakra(table = "members")]
pub struct Member {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40, unique)]
    pub email: String,
    pub name: String,
    pub visits: i32,
}

fn m(email: &str, name: &str, visits: i32) -> Member {
    Member {
        id: 0,
        email: email.into(),
        name: name.into(),
        visits,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_updates_or_skips_conflicting_rows() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Member::meta()], false)
            .await
            .unwrap();
        let mut first = vec![m("a@x", "A", 1), m("b@x", "B", 2)];
        Member::insert_many(&pool, &mut first).await.unwrap();

        let mut second = vec![m("a@x", "A2", 10), m("c@x", "C", 3), m("b@x", "B2", 20)];
        let r = chakra::upsert(&mut second)
            .on_conflict(Member::email())
            .do_update((Member::name(), Member::visits()))
            .execute(&pool)
            .await;
        // MySQL's code paths (no `RETURNING`; forced on MariaDB with
        // `CHAKRA_TEST_MYSQL_FLAVOUR=mysql`) cannot read the upserted rows' keys back: the
        // upsert is refused by name and writes nothing (counted with hand-written SQL).
        let server = pool.acquire().await.unwrap().mysql_server();
        if server.is_some_and(|s| !s.returning()) {
            let e = r.unwrap_err().to_string();
            assert!(
                e.contains("an upsert into \"members\" returning rows on MySQL")
                    && e.contains("not yet supported"),
                "{e}"
            );
            let count = common::mysql_scalar(&db.url, "SELECT COUNT(*) FROM members").await;
            assert_eq!(count, 2);
            let visits = common::mysql_scalar(
                &db.url,
                "SELECT CAST(SUM(visits) AS SIGNED) FROM members WHERE name IN ('A', 'B')",
            )
            .await;
            assert_eq!(visits, 3, "the conflicting rows are unchanged");
            assert!(second.iter().all(|r| r.id == 0), "no key written back");
            continue;
        }
        let n = r.unwrap();
        assert_eq!(n, 3, "{d:?}");
        assert_eq!(second[0].id, first[0].id, "{d:?}");
        assert_eq!(second[2].id, first[1].id, "{d:?}");
        assert!(second[1].id > 0);

        let mut third = vec![m("a@x", "nope", 0), m("d@x", "D", 4)];
        let r = chakra::upsert(&mut third)
            .on_conflict(Member::email())
            .do_nothing()
            .execute(&pool)
            .await;
        if d == chakra::Dialect::Mysql {
            // Refused by name on MySQL/MariaDB in this stage, nothing written; the row it
            // would have added is inserted plainly.
            let e = r.unwrap_err().to_string();
            assert!(
                e.contains("do_nothing") && e.contains("not yet supported"),
                "{e}"
            );
            Member::insert_many(&pool, &mut third[1..]).await.unwrap();
        } else {
            assert_eq!(r.unwrap(), 1, "{d:?}");
        }

        let rows = Member::query()
            .order_by(Member::email().asc())
            .values((Member::email(), Member::name(), Member::visits()), &pool)
            .await
            .unwrap();
        let want: Vec<(String, String, i32)> = vec![
            ("a@x".into(), "A2".into(), 10),
            ("b@x".into(), "B2".into(), 20),
            ("c@x".into(), "C".into(), 3),
            ("d@x".into(), "D".into(), 4),
        ];
        assert_eq!(rows, want, "{d:?}");

        let sql = chakra::compile(
            &Statement::Upsert(
                chakra::dsl::upsert_rows(
                    Member::meta(),
                    vec![vec![("email".into(), Value::Text("x".into()))]],
                    &["email".into()],
                    &["email".into()],
                )
                .unwrap(),
            ),
            chakra::Dialect::Sqlite,
        )
        .unwrap()
        .sql()
        .to_owned();
        assert!(
            sql.contains("ON CONFLICT (\"email\") DO UPDATE SET \"email\" = excluded.\"email\""),
            "{sql}"
        );
    }
}

#[test]
fn upsert_field_names_are_checked() {
    assert!(matches!(
        chakra::dsl::upsert_rows(Member::meta(), vec![], &["nope".into()], &[]),
        Err(Error::UnknownField { .. })
    ));
    assert!(matches!(
        chakra::dsl::upsert_rows(Member::meta(), vec![], &[], &["name".into()]),
        Err(Error::InvalidQuery(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_update_writes_each_rows_values_in_one_statement() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Member::meta()], false)
            .await
            .unwrap();
        let mut rows: Vec<Member> = (0..5).map(|i| m(&format!("{i}@x"), "n", i)).collect();
        Member::insert_many(&pool, &mut rows).await.unwrap();
        for (i, r) in rows.iter_mut().enumerate() {
            r.name = format!("name{i}");
            r.visits = (i as i32) * 100;
        }
        let n = chakra::bulk_update(&rows[1..], (Member::name(), Member::visits()))
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(n, 4, "{d:?}");
        let got = Member::query()
            .order_by(Member::id().asc())
            .values((Member::name(), Member::visits()), &pool)
            .await
            .unwrap();
        let want: Vec<(String, i32)> = (0..5)
            .map(|i| {
                if i == 0 {
                    ("n".to_owned(), 0)
                } else {
                    (format!("name{i}"), i * 100)
                }
            })
            .collect();
        assert_eq!(got, want, "{d:?}");
        // The statement text does not depend on the number of rows.
        let one = chakra::bulk_update(&rows[..1], Member::visits())
            .statement()
            .unwrap()
            .unwrap();
        let all = chakra::bulk_update(&rows, Member::visits())
            .statement()
            .unwrap()
            .unwrap();
        for dialect in [chakra::Dialect::Postgres, chakra::Dialect::Sqlite] {
            assert_eq!(
                chakra::compile(&one, dialect).unwrap().sql(),
                chakra::compile(&all, dialect).unwrap().sql()
            );
        }
    }
}
