//! Raw SQL from Rust (`chakra::raw::<M>(sql).bind(v).all`, `chakra::raw_execute`) on SQLite
//! and PostgreSQL: placeholders translated, hostile values bound, counts checked before SQL,
//! columns matched to fields by name.

mod common;

use chakra::prelude::*;
use common::ALL3;

#[derive(Debug, Clone, PartialEq, Model)]
#[chakra(table = "notes")]
pub struct Note {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub title: String,
    pub rank: i32,
    pub score: Option<f64>,
}

fn n(title: &str, rank: i32) -> Note {
    Note {
        id: 0,
        title: title.into(),
        rank,
        score: None,
    }
}

async fn setup(d: chakra::Dialect) -> (common::TestDb, Pool) {
    let db = common::TestDb::new(d).await;
    let pool = db.pool().await;
    chakra::schema::create_tables(&pool, &[Note::meta()], false)
        .await
        .unwrap();
    let mut rows = vec![
        n("plain", 1),
        n("it's %s; DROP TABLE notes; --", 2),
        n("$1 '%%'", 3),
    ];
    Note::insert_many(&pool, &mut rows).await.unwrap();
    (db, pool)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_rows_become_models_with_bound_values() {
    for d in ALL3 {
        let (_db, pool) = setup(d).await;
        // Columns in another order, an extra one, a quoted `$2` and `'%s'` that are text.
        let hostile = "it's %s; DROP TABLE notes; --";
        let rows = chakra::raw::<Note>(
            "SELECT 'x $2 %s' AS extra, score, rank, title, id FROM notes \
             WHERE title = $1 OR rank >= $2 ORDER BY id",
        )
        .bind(hostile)
        .bind(3i64)
        .all(&pool)
        .await
        .unwrap();
        let titles: Vec<_> = rows.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, vec![hostile, "$1 '%%'"], "{d:?}");
        assert_eq!(rows[0].rank, 2, "{d:?}");
        assert_eq!(rows[0].score, None, "{d:?}");

        // A numbered parameter used twice.
        let rows = chakra::raw::<Note>("SELECT * FROM notes WHERE rank = $1 OR id = $1")
            .bind(1i64)
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{d:?}");

        let changed = chakra::raw_execute("UPDATE notes SET score = $1 WHERE rank <= $2")
            .bind(1.5f64)
            .bind(2i64)
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(changed, 2, "{d:?}");
        // Through a transaction too.
        let mut tx = pool.begin().await.unwrap();
        let rows = chakra::raw::<Note>("SELECT * FROM notes WHERE score > $1")
            .bind(1.0f64)
            .all(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(rows.len(), 2, "{d:?}");
        assert_eq!(rows[0].score, Some(1.5), "{d:?}");
        assert_eq!(Note::query().count(&pool).await.unwrap(), 3, "{d:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_sql_errors_name_counts_and_fields() {
    for d in ALL3 {
        let (_db, pool) = setup(d).await;
        let e = chakra::raw::<Note>("SELECT * FROM notes WHERE id = $1 AND rank = $2")
            .bind(1i64)
            .all(&pool)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidQuery(_)), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains("expects 2 parameters") && msg.contains("1 was given"),
            "{msg}"
        );

        let e = chakra::raw_execute("DELETE FROM notes WHERE title = '$1'")
            .bind(1i64)
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("expects 0 parameters"), "{e}");

        let e = chakra::raw::<Note>("SELECT id, title FROM notes")
            .all(&pool)
            .await
            .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::Decode { .. }), "{e:?}");
        assert!(msg.contains("Note.rank"), "{msg}");
        assert_eq!(Note::query().count(&pool).await.unwrap(), 3, "{d:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_fetch_returns_plain_rows_with_bound_values() {
    for d in ALL3 {
        let (_db, pool) = setup(d).await;
        let hostile = "it's %s; DROP TABLE notes; --";
        let got = chakra::raw_fetch(
            "SELECT title, rank, 'x $2' AS lit FROM notes WHERE title = $1 OR rank >= $2 \
             ORDER BY id",
        )
        .bind(hostile)
        .bind(3i64)
        .all(&pool)
        .await
        .unwrap();
        assert_eq!(got.columns, vec!["title", "rank", "lit"], "{d:?}");
        let titles: Vec<_> = got.rows.iter().map(|r| r[0].clone()).collect();
        assert_eq!(
            titles,
            vec![Value::from(hostile), Value::from("$1 '%%'")],
            "{d:?}"
        );
        assert_eq!(got.rows[0][2], Value::from("x $2"), "{d:?}");
        let err = chakra::raw_fetch("SELECT * FROM notes WHERE rank = $1")
            .all(&pool)
            .await
            .unwrap_err();
        assert!(
            matches!(err, chakra::Error::InvalidQuery(_)),
            "{d:?}: {err}"
        );
        // The table survived the hostile value.
        let n = chakra::raw_fetch("SELECT COUNT(*) AS n FROM notes")
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(n.rows.len(), 1, "{d:?}");
    }
}
