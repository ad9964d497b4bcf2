//! A transaction of a read-your-writes scope records the primary's WAL position at commit
//! only when a statement that may write ran in it: plain reads alone record nothing, a write
//! among reads records it (the transaction notes writes only while its scope marks them).

mod common;

use chakra::databases::{DatabaseConfig, Databases};
use chakra::prelude::*;
use common::TestDb;

#[derive(Debug, Clone, Model)]
#[chakra(table = "wal_reads")]
pub struct Item {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub n: i64,
}

#[tokio::test]
async fn only_a_transaction_that_wrote_records_its_position() {
    let t = TestDb::postgres().await;
    let pool = t.pool().await;
    pool.batch_execute(
        "CREATE TABLE wal_reads (id BIGSERIAL PRIMARY KEY, n BIGINT NOT NULL); \
         INSERT INTO wal_reads (n) VALUES (1)",
    )
    .await
    .unwrap();
    // The server as its own replica.
    let dbs = Databases::builder()
        .database_with("default", DatabaseConfig::new(&t.url).replica(&t.url))
        .connect()
        .await
        .unwrap();
    let db = dbs.default_db().unwrap();

    let reads = db.scope().replica(true);
    let mut tx = reads.begin().await.unwrap();
    for _ in 0..3 {
        assert_eq!(Item::query().all(&mut tx).await.unwrap().len(), 1);
    }
    tx.commit().await.unwrap();
    assert!(
        reads.mark().written().lsn.is_none(),
        "plain reads record no position"
    );

    let writes = db.scope().replica(true);
    let mut tx = writes.begin().await.unwrap();
    assert_eq!(Item::query().all(&mut tx).await.unwrap().len(), 1);
    let mut item = Item { id: 0, n: 2 };
    item.save(&mut tx).await.unwrap();
    assert_eq!(Item::query().all(&mut tx).await.unwrap().len(), 2);
    tx.commit().await.unwrap();
    assert!(
        writes.mark().written().lsn.is_some(),
        "a write among reads records the position"
    );
}
