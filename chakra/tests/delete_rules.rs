//! Every Rust delete path (`Query::delete` on a pool or in a transaction, `Model::delete`,
//! a `Session`'s pending delete, `Query::delete_in`) does what the models declare
//! (`on_delete = Cascade` / `SetNull`) on tables created by hand whose foreign keys say
//! otherwise (no `ON DELETE`, or `CASCADE` where the model says `SetNull`); a refused delete
//! leaves every row. The expected rows are derived by hand from the inserted ones and read
//! back with hand-written SQL.

mod common;

use chakra::prelude::*;
use common::ALL3;

#[derive(Debug, Clone, Model)]
#[chakra(table = "dr_owners")]
pub struct DrOwner {
    #[chakra(primary_key)]
    pub id: i64,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "dr_pets")]
pub struct DrPet {
    #[chakra(primary_key)]
    pub id: i64,
    pub owner_id: i64,
    #[chakra(relation = ForeignKey, foreign_key = "owner_id", on_delete = Cascade)]
    pub owner: Related<DrOwner>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "dr_toys")]
pub struct DrToy {
    #[chakra(primary_key)]
    pub id: i64,
    pub pet_id: i64,
    #[chakra(relation = ForeignKey, foreign_key = "pet_id", on_delete = Cascade)]
    pub pet: Related<DrPet>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "dr_badges")]
pub struct DrBadge {
    #[chakra(primary_key)]
    pub id: i64,
    pub owner_id: Option<i64>,
    #[chakra(relation = ForeignKey, foreign_key = "owner_id", on_delete = SetNull)]
    pub owner: Related<Option<DrOwner>>,
}

/// A model whose table is never created: its CASCADE step is skipped.
#[derive(Debug, Clone, Model)]
#[chakra(table = "dr_collars")]
pub struct DrCollar {
    #[chakra(primary_key)]
    pub id: i64,
    pub pet_id: i64,
    #[chakra(relation = ForeignKey, foreign_key = "pet_id", on_delete = Cascade)]
    pub pet: Related<DrPet>,
}

/// A model whose table is created, remembered by a delete, then dropped.
#[derive(Debug, Clone, Model)]
#[chakra(table = "dr_leashes")]
pub struct DrLeash {
    #[chakra(primary_key)]
    pub id: i64,
    pub owner_id: i64,
    #[chakra(relation = ForeignKey, foreign_key = "owner_id", on_delete = Cascade)]
    pub owner: Related<DrOwner>,
}

const DDL: &[&str] = &[
    "CREATE TABLE dr_owners (id BIGINT PRIMARY KEY)",
    "CREATE TABLE dr_pets (id BIGINT PRIMARY KEY, owner_id BIGINT NOT NULL REFERENCES dr_owners (id))",
    "CREATE TABLE dr_toys (id BIGINT PRIMARY KEY, pet_id BIGINT NOT NULL REFERENCES dr_pets (id))",
    "CREATE TABLE dr_badges (id BIGINT PRIMARY KEY, \
     owner_id BIGINT REFERENCES dr_owners (id) ON DELETE CASCADE)",
    "CREATE TABLE dr_vets (id BIGINT PRIMARY KEY, pet_id BIGINT NOT NULL REFERENCES dr_pets (id))",
    "CREATE TABLE dr_leashes (id BIGINT PRIMARY KEY, owner_id BIGINT NOT NULL REFERENCES dr_owners (id))",
    "INSERT INTO dr_owners VALUES (1), (2), (3), (4), (5), (6)",
    "INSERT INTO dr_pets VALUES (10, 1), (11, 1), (20, 2), (30, 3), (40, 4), (50, 5), (60, 6)",
    "INSERT INTO dr_toys VALUES (100, 10), (101, 11), (200, 20), (400, 40), (500, 50), (600, 60)",
    "INSERT INTO dr_badges VALUES (1000, 1), (1001, 2), (1002, NULL), (1004, 4), (1005, 5)",
    "INSERT INTO dr_leashes VALUES (7001, 1), (7004, 4), (7006, 6)",
];

async fn ids(pool: &Pool, sql: &str) -> Vec<String> {
    let rows = chakra::raw_fetch(sql).all(pool).await.unwrap();
    rows.rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(":")
        })
        .collect()
}

/// The rows of every table, one string per table (`id:fk` rows joined by spaces).
async fn snapshot(pool: &Pool) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT id FROM dr_owners ORDER BY id",
        "SELECT id, owner_id FROM dr_pets ORDER BY id",
        "SELECT id, pet_id FROM dr_toys ORDER BY id",
        "SELECT id, owner_id FROM dr_badges ORDER BY id",
        "SELECT id, pet_id FROM dr_vets ORDER BY id",
    ] {
        out.push(ids(pool, sql).await.join(" "));
    }
    out
}

/// Owner `o` is gone with its pets and their toys and its leashes; its badges are kept
/// with no owner (the model's SetNull, not the database's CASCADE).
async fn assert_owner_deleted(pool: &Pool, o: i64, d: chakra::Dialect) {
    let n = |sql: String| async move { ids(pool, &sql).await };
    assert!(
        n(format!("SELECT id FROM dr_owners WHERE id = {o}"))
            .await
            .is_empty(),
        "{d:?}"
    );
    assert!(n(format!("SELECT id FROM dr_pets WHERE owner_id = {o}"))
        .await
        .is_empty());
    assert!(n(
        "SELECT t.id FROM dr_toys t WHERE t.pet_id NOT IN (SELECT id FROM dr_pets)".to_owned()
    )
    .await
    .is_empty());
    // Badge 1000 belongs to owner 1, badge 100o to owner o.
    let badge = if o == 1 { 1000 } else { 1000 + o };
    let badges = n(format!(
        "SELECT COUNT(*) FROM dr_badges WHERE id = {badge} AND owner_id IS NULL"
    ))
    .await;
    assert_eq!(badges, ["1"], "{d:?}: badge {badge} kept, detached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_delete_path_carries_out_the_declared_rules() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        for sql in DDL {
            pool.batch_execute(sql).await.unwrap();
        }
        // The database alone refuses: its keys have no ON DELETE.
        assert!(pool
            .batch_execute("DELETE FROM dr_owners WHERE id = 1")
            .await
            .is_err());

        // Query::delete on the pool: the steps in a transaction of their own.
        let n = DrOwner::query()
            .filter(DrOwner::id().eq(1))
            .delete(&pool)
            .await
            .unwrap();
        assert_eq!(n, 1, "{d:?}");
        assert_owner_deleted(&pool, 1, d).await;
        assert_eq!(
            snapshot(&pool).await,
            [
                "2 3 4 5 6",
                "20:2 30:3 40:4 50:5 60:6",
                "200:20 400:40 500:50 600:60",
                "1000:None 1001:2 1002:None 1004:4 1005:5",
                "",
            ],
            "{d:?}"
        );
        assert_eq!(
            ids(&pool, "SELECT id FROM dr_leashes ORDER BY id").await,
            ["7004", "7006"]
        );

        // Model::delete.
        DrOwner { id: 4 }.delete(&pool).await.unwrap();
        assert_owner_deleted(&pool, 4, d).await;
        assert!(matches!(
            DrOwner { id: 4 }.delete(&pool).await,
            Err(Error::NotFound { .. })
        ));

        // A Session's pending delete.
        let session = Session::new(&pool);
        session.delete(&DrOwner { id: 5 });
        session.commit().await.unwrap();
        assert_owner_deleted(&pool, 5, d).await;

        // Query::delete in a transaction (a savepoint), then a rollback undoes it.
        let mut tx = pool.begin().await.unwrap();
        let n = DrOwner::query()
            .filter(DrOwner::id().eq(6))
            .delete(&mut tx)
            .await
            .unwrap();
        assert_eq!(n, 1);
        tx.rollback().await.unwrap();
        assert_eq!(
            ids(&pool, "SELECT id FROM dr_pets WHERE owner_id = 6").await,
            ["60"]
        );
        assert_eq!(
            snapshot(&pool).await,
            [
                "2 3 6",
                "20:2 30:3 60:6",
                "200:20 600:60",
                "1000:None 1001:2 1002:None 1004:None 1005:None",
                "",
            ],
            "{d:?}"
        );

        // A vet restricts pet 20: deleting owners 2 and 3 fails and leaves every row, on
        // every path.
        pool.batch_execute("INSERT INTO dr_vets VALUES (5, 20)")
            .await
            .unwrap();
        let before = snapshot(&pool).await;
        let both = || DrOwner::query().filter(DrOwner::id().is_in([2i64, 3]));
        assert!(both().delete(&pool).await.is_err(), "{d:?}");
        assert_eq!(snapshot(&pool).await, before, "{d:?}: pool delete undone");
        assert!(DrOwner { id: 2 }.delete(&pool).await.is_err());
        assert_eq!(snapshot(&pool).await, before, "{d:?}: Model::delete undone");
        let session = Session::new(&pool);
        session.delete(&DrOwner { id: 3 });
        session.delete(&DrOwner { id: 2 });
        assert!(session.commit().await.is_err());
        assert_eq!(snapshot(&pool).await, before, "{d:?}: session undone");

        let mut tx = pool.begin().await.unwrap();
        assert!(both().delete(&mut tx).await.is_err(), "{d:?}");
        // The transaction goes on after the undone steps.
        let n = DrOwner::query()
            .filter(DrOwner::id().eq(3))
            .delete_in(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(n, 1, "{d:?}");
        assert_eq!(
            snapshot(&pool).await,
            [
                "2 6",
                "20:2 60:6",
                "200:20 600:60",
                "1000:None 1001:2 1002:None 1004:None 1005:None",
                "5:20",
            ],
            "{d:?}"
        );
    }
}

/// A table remembered as present by one delete and dropped before the next: the next
/// delete asks again and succeeds (no step for the dropped table).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_table_is_asked_about_again() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        for sql in DDL {
            pool.batch_execute(sql).await.unwrap();
        }
        DrOwner { id: 1 }.delete(&pool).await.unwrap();
        assert_eq!(
            ids(&pool, "SELECT id FROM dr_leashes ORDER BY id").await,
            ["7004", "7006"]
        );
        pool.batch_execute("DROP TABLE dr_leashes").await.unwrap();
        DrOwner { id: 4 }.delete(&pool).await.unwrap();
        assert_owner_deleted(&pool, 4, d).await;
        // And created again: the delete after it sees it (absence is not remembered).
        pool.batch_execute(
            "CREATE TABLE dr_leashes (id BIGINT PRIMARY KEY, \
             owner_id BIGINT NOT NULL REFERENCES dr_owners (id))",
        )
        .await
        .unwrap();
        pool.batch_execute("INSERT INTO dr_leashes VALUES (7006, 6)")
            .await
            .unwrap();
        DrOwner { id: 6 }.delete(&pool).await.unwrap();
        assert!(
            ids(&pool, "SELECT id FROM dr_leashes").await.is_empty(),
            "{d:?}"
        );
    }
}
