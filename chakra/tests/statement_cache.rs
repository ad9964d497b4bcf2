//! The statement-shape cache (`chakra::sql::cache`): `Model::get`, `Tx::get` and
//! `Tx::get_for_update` compile their SELECT once per model and dialect; a cache hit runs the
//! same SQL text as a miss and as a fresh compile of the same IR, and returns the same rows.
//! Counters and the statement listener are process-wide, so everything runs in one test.

mod blog;
mod common;

use blog::{blog, user, User};
use chakra::dsl::{pk_filter, ModelQuery, Statement, Value};
use chakra::exec::log::{set_listener, StatementRecord};
use chakra::prelude::*;
use chakra::sql::cache::{compile_shape, stats, Shape, ShapeKind};
use chakra::{compile, Dialect};
use common::ALL3;
use std::sync::{Arc, Mutex};

type Log = Arc<Mutex<Vec<StatementRecord>>>;

fn selects(log: &Log) -> Vec<StatementRecord> {
    std::mem::take(&mut *log.lock().unwrap())
        .into_iter()
        .filter(|r| r.sql.starts_with("SELECT"))
        .collect()
}

/// A model keyed by a UUID: on SQLite the key is bound as text, so a hit must convert the
/// new value the way the compiler does.
#[derive(Debug, Clone, PartialEq, Model)]
#[chakra(table = "badges")]
pub struct Badge {
    #[chakra(primary_key)]
    pub id: uuid::Uuid,
    pub label: String,
}

fn fresh_sql(meta: &Arc<chakra::dsl::ModelMeta>, key: Value, d: Dialect) -> String {
    let q = ModelQuery::new(meta.clone()).filter(pk_filter(meta, key).unwrap());
    compile(&Statement::Select(q.select()), d).unwrap().sql()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_by_pk_reuses_the_compiled_statement() {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    set_listener(
        Some(Arc::new(move |r: StatementRecord| {
            sink.lock().unwrap().push(r)
        })),
        true,
    );
    for d in ALL3 {
        let (db, pool) = blog(d).await;
        let mut users = vec![user("ann"), user("ben"), user("cid")];
        User::insert_many(&pool, &mut users).await.unwrap();
        selects(&log);

        // Miss or hit (another test of this binary may have warmed the shape): the same SQL
        // text each time, the same as compiling the IR afresh, and the right rows.
        let (h0, _) = stats();
        for u in &users {
            let got = User::get(&pool, u.id).await.unwrap();
            assert_eq!((got.id, &got.username), (u.id, &u.username), "{d:?}");
        }
        let (h1, _) = stats();
        assert!(h1 - h0 >= 2, "{d:?}: the second and third get are hits");
        let runs = selects(&log);
        assert_eq!(runs.len(), 3);
        let expected = fresh_sql(User::meta(), Value::I64(users[0].id), d);
        for (r, u) in runs.iter().zip(&users) {
            assert_eq!(r.sql, expected, "{d:?}");
            assert_eq!(r.params.as_deref(), Some(&[Value::I64(u.id)][..]), "{d:?}");
        }
        let err = User::get(&pool, 999_999).await.unwrap_err();
        assert!(
            matches!(err, chakra::Error::NotFound { .. }),
            "{d:?}: {err:?}"
        );
        selects(&log);

        // The same through a transaction, tracked, and locked.
        let session = Session::new(&pool);
        let id = users[1].id;
        session
            .transaction(|tx| async move {
                let mut t = tx.get::<User>(id).await?.expect("row");
                t.username = "bea".into();
                drop(t);
                let l = tx.get_for_update::<User>(id).await?.expect("row");
                assert_eq!(l.id, id);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(User::get(&pool, id).await.unwrap().username, "bea");
        let runs = selects(&log);
        assert_eq!(runs.len(), 3);
        assert_eq!(runs[0].sql, expected);
        let locked = runs[1].sql.clone();
        assert!(
            d == Dialect::Sqlite || locked.ends_with("FOR UPDATE"),
            "{d:?}: {locked}"
        );
        assert_eq!(runs[2].sql, expected);

        // A UUID key: the hit binds the new key in the dialect's storage form.
        chakra::schema::create_tables(&pool, &[Badge::meta()], false)
            .await
            .unwrap();
        let badges: Vec<Badge> = (0..3)
            .map(|i| Badge {
                id: uuid::Uuid::new_v4(),
                label: format!("b{i}"),
            })
            .collect();
        for b in &badges {
            b.clone().save(&pool).await.unwrap();
        }
        selects(&log);
        for b in &badges {
            assert_eq!(&Badge::get(&pool, b.id).await.unwrap(), b, "{d:?}");
        }
        let runs = selects(&log);
        let expected = fresh_sql(Badge::meta(), Value::Uuid(badges[0].id), d);
        assert!(runs.iter().all(|r| r.sql == expected), "{d:?}: {runs:?}");
        drop(db);
    }
    set_listener(None, false);
}

/// Values of another type than the cached ones, and NULLs, compile afresh.
#[test]
fn other_types_and_nulls_are_compiled_not_served() {
    let meta = User::meta();
    let build = |mut v: Vec<Value>| {
        let key = v.pop().unwrap();
        let q = ModelQuery::new(meta.clone()).filter(pk_filter(meta, key)?);
        Ok(Statement::Select(q.select()))
    };
    let shape = Shape::of(meta, ShapeKind::GetByPk, Dialect::Postgres);
    let a = compile_shape(shape, vec![Value::I64(1)], build).unwrap();
    let b = compile_shape(shape, vec![Value::I64(2)], build).unwrap();
    assert_eq!(a.parts, b.parts);
    assert_eq!(b.binds, vec![Value::I64(2)]);
    let text = compile_shape(shape, vec![Value::Text("x".into())], build).unwrap();
    assert_eq!(text.binds, vec![Value::Text("x".into())]);
    let null = compile_shape(shape, vec![Value::Null(chakra::dsl::ValueType::I64)], build).unwrap();
    assert_eq!(
        null.sql(),
        fresh_sql(
            meta,
            Value::Null(chakra::dsl::ValueType::I64),
            Dialect::Postgres
        )
    );
}
