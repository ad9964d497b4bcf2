//! A model with a composite primary key (several `#[chakra(primary_key)]` fields), from the
//! Rust door: `Model::get` takes a tuple, and `save`, `save_fields`, `refresh` and `delete`
//! name the row by every key column, so a row sharing the first key value is never touched.
//! Checked with hand-written SQL on SQLite, PostgreSQL and MySQL/MariaDB.

mod common;

use chakra::prelude::*;
use common::ALL3;

#[derive(Debug, Clone, PartialEq, Model)]
#[chakra(table = "ck_memberships")]
pub struct CkMembership {
    #[chakra(primary_key)]
    pub team_id: i64,
    #[chakra(primary_key)]
    pub user_id: i64,
    #[chakra(max_length = 20)]
    pub role: String,
    pub score: i32,
}

fn m(team_id: i64, user_id: i64, role: &str) -> CkMembership {
    CkMembership {
        team_id,
        user_id,
        role: role.into(),
        score: 0,
    }
}

/// Every row as (team, user, role, score), read with hand-written SQL.
async fn rows(pool: &Pool) -> Vec<(i64, i64, String, i32)> {
    chakra::raw::<CkMembership>(
        "SELECT team_id, user_id, role, score FROM ck_memberships ORDER BY team_id, user_id",
    )
    .all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.team_id, r.user_id, r.role, r.score))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_row_writes_use_every_key_column() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[CkMembership::meta()], false)
            .await
            .unwrap();
        for mut row in [m(1, 10, "owner"), m(1, 20, "member"), m(2, 10, "member")] {
            row.save(&pool).await.unwrap();
        }
        let want = |r: &[(i64, i64, &str, i32)]| -> Vec<(i64, i64, String, i32)> {
            r.iter()
                .map(|&(t, u, role, s)| (t, u, role.to_owned(), s))
                .collect()
        };
        assert_eq!(
            rows(&pool).await,
            want(&[
                (1, 10, "owner", 0),
                (1, 20, "member", 0),
                (2, 10, "member", 0)
            ]),
            "{d:?}"
        );

        let mut got = CkMembership::get(&pool, (1, 20)).await.unwrap();
        assert_eq!(got, m(1, 20, "member"), "{d:?}");
        assert_eq!(got.pk(), (1, 20));
        got.role = "admin".into();
        got.save(&pool).await.unwrap();
        assert_eq!(
            rows(&pool).await,
            want(&[
                (1, 10, "owner", 0),
                (1, 20, "admin", 0),
                (2, 10, "member", 0)
            ]),
            "{d:?}"
        );
        got.score = 5;
        got.save_fields(&pool, (CkMembership::score(),))
            .await
            .unwrap();
        assert_eq!(
            rows(&pool).await,
            want(&[
                (1, 10, "owner", 0),
                (1, 20, "admin", 5),
                (2, 10, "member", 0)
            ]),
            "{d:?}"
        );

        chakra::raw_execute(
            "UPDATE ck_memberships SET role = 'changed' WHERE team_id = 1 AND user_id = 20",
        )
        .execute(&pool)
        .await
        .unwrap();
        got.refresh(&pool).await.unwrap();
        assert_eq!(got.role, "changed", "{d:?}");

        let owner = CkMembership::get(&pool, (1, 10)).await.unwrap();
        owner.delete(&pool).await.unwrap();
        assert_eq!(
            rows(&pool).await,
            want(&[(1, 20, "changed", 5), (2, 10, "member", 0)]),
            "{d:?}"
        );

        let e = CkMembership::get(&pool, (1, 10)).await.unwrap_err();
        assert!(
            matches!(&e, chakra::Error::NotFound { detail: Some(d), .. } if d.contains("(team_id, user_id)=(1, 10)")),
            "{e}"
        );
    }
}

#[test]
fn the_meta_holds_every_key_field() {
    let meta = CkMembership::meta();
    let keys: Vec<&str> = meta
        .primary_key_fields()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(keys, ["team_id", "user_id"]);
    assert!(meta.primary_key().is_none());
    assert!(meta.fields.iter().all(|f| !f.auto_increment));
}

/// `in_bulk` on a composite key (Django 5.2's `CompositePrimaryKey`): tuple keys, missing
/// keys absent, the query's filter kept, more keys than one statement takes read in chunks;
/// compared with the rows read by hand-written SQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_bulk_keys_by_tuples() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[CkMembership::meta()], false)
            .await
            .unwrap();
        for mut row in [m(1, 10, "owner"), m(1, 20, "member"), m(2, 10, "member")] {
            row.save(&pool).await.unwrap();
        }
        let mut rows_sql = Vec::new();
        for u in 1000..2200i64 {
            rows_sql.push(format!("(3, {u}, 'bulk', {})", u % 7));
        }
        pool.batch_execute(&format!(
            "INSERT INTO ck_memberships (team_id, user_id, role, score) VALUES {}",
            rows_sql.join(", ")
        ))
        .await
        .unwrap();
        let expected: std::collections::HashMap<(i64, i64), (String, i32)> = rows(&pool)
            .await
            .into_iter()
            .map(|(t, u, r, s)| ((t, u), (r, s)))
            .collect();
        let view = |got: std::collections::HashMap<(i64, i64), CkMembership>| {
            let mut v: Vec<((i64, i64), (String, i32))> = got
                .into_iter()
                .map(|(k, r)| {
                    assert_eq!(k, (r.team_id, r.user_id));
                    (k, (r.role, r.score))
                })
                .collect();
            v.sort();
            v
        };
        let want = |keys: &[(i64, i64)]| {
            let mut v: Vec<((i64, i64), (String, i32))> = keys
                .iter()
                .filter_map(|k| expected.get(k).map(|r| (*k, r.clone())))
                .collect();
            v.sort();
            v
        };
        let keys = [(1, 20), (2, 10), (9, 9)];
        let got = CkMembership::query().in_bulk(&pool, keys).await.unwrap();
        assert_eq!(view(got), want(&keys), "{d:?}");
        let filtered = CkMembership::query()
            .filter(CkMembership::team_id().eq(1))
            .in_bulk(&pool, [(1, 10), (2, 10)])
            .await
            .unwrap();
        assert_eq!(view(filtered), want(&[(1, 10)]), "{d:?}");
        let many: Vec<(i64, i64)> = (990..2210).map(|u| (3, u)).collect();
        let got = CkMembership::query()
            .in_bulk(&pool, many.clone())
            .await
            .unwrap();
        assert_eq!(got.len(), 1200, "{d:?}");
        assert_eq!(view(got), want(&many), "{d:?}");
        let none = CkMembership::query()
            .in_bulk(&pool, Vec::<(i64, i64)>::new())
            .await
            .unwrap();
        assert!(none.is_empty());
    }
}

/// `bulk_update` on a composite key (Django 5.2's `bulk_update` on a `CompositePrimaryKey`):
/// one statement writes each object's fields to the row named by every key column; rows
/// sharing a key column's value are untouched. Checked with hand-written SQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_update_names_rows_by_every_key_column() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[CkMembership::meta()], false)
            .await
            .unwrap();
        for mut row in [
            m(1, 10, "owner"),
            m(1, 20, "member"),
            m(2, 10, "member"),
            m(2, 20, "guest"),
        ] {
            row.save(&pool).await.unwrap();
        }
        let mut changed = vec![m(1, 20, "admin"), m(2, 10, "lead")];
        changed[0].score = 5;
        changed[1].score = 7;
        let n = chakra::bulk_update(&changed, (CkMembership::role(), CkMembership::score()))
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(n, 2, "{d:?}");
        assert_eq!(
            rows(&pool).await,
            [
                (1, 10, "owner".to_owned(), 0),
                (1, 20, "admin".to_owned(), 5),
                (2, 10, "lead".to_owned(), 7),
                (2, 20, "guest".to_owned(), 0),
            ],
            "{d:?}"
        );
        // One field; an object without a row updates nothing.
        let n = chakra::bulk_update(&[m(2, 20, "gone"), m(9, 9, "none")], CkMembership::role())
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(n, 1, "{d:?}");
        assert_eq!(rows(&pool).await[3], (2, 20, "gone".to_owned(), 0), "{d:?}");
        // The key cannot be updated.
        let err = chakra::bulk_update(&changed, CkMembership::user_id())
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot update the primary key user_id"),
            "{err}"
        );
    }
}
