//! `Query::delete_in(&mut tx)` does what the models declare (`on_delete = Cascade` /
//! `SetNull`) on tables created by hand whose foreign keys say otherwise (no `ON DELETE`,
//! or `CASCADE` where the model says `SetNull`); a refused delete leaves every row. The
//! expected rows are derived by hand from the inserted ones.

mod common;

use chakra::prelude::*;
use common::BOTH;

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

const DDL: &[&str] = &[
    "CREATE TABLE dr_owners (id BIGINT PRIMARY KEY)",
    "CREATE TABLE dr_pets (id BIGINT PRIMARY KEY, owner_id BIGINT NOT NULL REFERENCES dr_owners (id))",
    "CREATE TABLE dr_toys (id BIGINT PRIMARY KEY, pet_id BIGINT NOT NULL REFERENCES dr_pets (id))",
    "CREATE TABLE dr_badges (id BIGINT PRIMARY KEY, \
     owner_id BIGINT REFERENCES dr_owners (id) ON DELETE CASCADE)",
    "CREATE TABLE dr_vets (id BIGINT PRIMARY KEY, pet_id BIGINT NOT NULL REFERENCES dr_pets (id))",
    "INSERT INTO dr_owners VALUES (1), (2), (3)",
    "INSERT INTO dr_pets VALUES (10, 1), (11, 1), (20, 2), (30, 3)",
    "INSERT INTO dr_toys VALUES (100, 10), (101, 11), (200, 20)",
    "INSERT INTO dr_badges VALUES (1000, 1), (1001, 2), (1002, NULL)",
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_in_carries_out_the_declared_rules() {
    for d in BOTH {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        for sql in DDL {
            pool.batch_execute(sql).await.unwrap();
        }
        // The database alone refuses: its keys have no ON DELETE.
        assert!(DrOwner::query()
            .filter(DrOwner::id().eq(1))
            .delete(&pool)
            .await
            .is_err());

        let mut tx = pool.begin().await.unwrap();
        let n = DrOwner::query()
            .filter(DrOwner::id().eq(1))
            .delete_in(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(n, 1, "{d:?}");
        assert_eq!(
            ids(&pool, "SELECT id FROM dr_owners ORDER BY id").await,
            ["2", "3"]
        );
        assert_eq!(
            ids(&pool, "SELECT id FROM dr_pets ORDER BY id").await,
            ["20", "30"]
        );
        assert_eq!(
            ids(&pool, "SELECT id FROM dr_toys ORDER BY id").await,
            ["200"]
        );
        // SetNull as the model says (the database would have deleted badge 1000).
        let badges = ids(&pool, "SELECT id, owner_id FROM dr_badges ORDER BY id").await;
        assert_eq!(badges.len(), 3, "{d:?}: {badges:?}");
        assert!(
            badges[0].starts_with("1000:") && !badges[0].ends_with(":1"),
            "{badges:?}"
        );

        // A vet restricts pet 20: deleting owners 2 and 3 fails and leaves every row.
        pool.batch_execute("INSERT INTO dr_vets VALUES (5, 20)")
            .await
            .unwrap();
        let mut tx = pool.begin().await.unwrap();
        let err = DrOwner::query()
            .filter(DrOwner::id().is_in([2i64, 3]))
            .delete_in(&mut tx)
            .await;
        assert!(err.is_err(), "{d:?}");
        // The transaction goes on after the undone steps.
        let n = DrOwner::query()
            .filter(DrOwner::id().eq(3))
            .delete_in(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(n, 1, "{d:?}");
        assert_eq!(
            ids(&pool, "SELECT id FROM dr_owners ORDER BY id").await,
            ["2"]
        );
        assert_eq!(
            ids(&pool, "SELECT id FROM dr_pets ORDER BY id").await,
            ["20"]
        );
        assert_eq!(
            ids(&pool, "SELECT id FROM dr_toys ORDER BY id").await,
            ["200"]
        );
    }
}
