//! A relation to a model with a composite primary key is refused by name (as Django
//! refuses a foreign key to a `CompositePrimaryKey`): in a test binary of its own, since the
//! refused model is registered process-wide.

mod common;

use chakra::prelude::*;

#[derive(Debug, Clone, Model)]
#[chakra(table = "ckr_memberships")]
pub struct CkMembership {
    #[chakra(primary_key)]
    pub team_id: i64,
    #[chakra(primary_key)]
    pub user_id: i64,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "ck_badges")]
pub struct CkBadge {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub membership_id: i64,
    #[chakra(relation = ForeignKey, foreign_key = "membership_id")]
    pub membership: Related<CkMembership>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relation_to_a_composite_key_model_is_refused_by_name() {
    let db = common::TestDb::sqlite().await;
    let pool = db.pool().await;
    let e = chakra::schema::create_tables(&pool, &[CkMembership::meta(), CkBadge::meta()], false)
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, chakra::Error::InvalidRelation { .. })
            && text.contains("CkBadge")
            && text.contains("CkMembership has a composite primary key (team_id, user_id)"),
        "{text}"
    );
}
