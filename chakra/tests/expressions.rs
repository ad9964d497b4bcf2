//! Typed expressions (`lower`, `upper`, `length`, `coalesce`, `cast`, `when`, `now`,
//! arithmetic) selected with `Query::values`, on SQLite and PostgreSQL: the same typed rows
//! on both.

mod common;

use chakra::dsl::typed::{named, value};
use chakra::prelude::*;
use common::ALL3;

#[derive(Debug, Clone, Model)]
#[chakra(table = "gadgets")]
pub struct Gadget {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub name: String,
    pub nick: Option<String>,
    pub n: Option<i32>,
    pub score: f64,
}

fn g(name: &str, nick: Option<&str>, n: Option<i32>, score: f64) -> Gadget {
    Gadget {
        id: 0,
        name: name.into(),
        nick: nick.map(Into::into),
        n,
        score,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_expressions_have_the_same_values_on_both_backends() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[Gadget::meta()], false)
            .await
            .unwrap();
        let mut rows = vec![
            g("Élan", Some("é"), Some(3), 2.75),
            g("bob", None, None, -1.5),
            g("Cy", Some("cy"), Some(12), 0.0),
        ];
        Gadget::insert_many(&pool, &mut rows).await.unwrap();
        let q = || Gadget::query().order_by(Gadget::id().asc());

        let got = q()
            .values(
                (
                    lower(Gadget::name()),
                    upper(Gadget::name()),
                    length(Gadget::name()),
                    coalesce(Gadget::nick(), Gadget::name()),
                    coalesce(Gadget::n(), value(0)),
                    named("double", Gadget::n() * 2),
                ),
                &pool,
            )
            .await
            .unwrap();
        assert_eq!(
            got,
            vec![
                ("élan".into(), "ÉLAN".into(), 4, "é".into(), 3, Some(6)),
                ("bob".into(), "BOB".into(), 3, "bob".into(), 0, None),
                ("cy".into(), "CY".into(), 2, "cy".into(), 12, Some(24)),
            ],
            "{d:?}"
        );

        let got = q()
            .values(
                (
                    cast::<i64, _, _>(Gadget::score()),
                    cast::<f64, _, _>(Gadget::n()),
                    cast::<String, _, _>(Gadget::n()),
                    when(Gadget::score().gt(0.0), "up".to_owned())
                        .when(Gadget::score().lt(0.0), "down".to_owned())
                        .end(),
                    when(Gadget::n().ge(10), 1i64).otherwise(0),
                    now(),
                ),
                &pool,
            )
            .await
            .unwrap();
        let shape: Vec<_> = got
            .iter()
            .map(|(a, b, c, d, e, _)| (*a, *b, c.clone(), d.clone(), *e))
            .collect();
        assert_eq!(
            shape,
            vec![
                (
                    Some(2),
                    Some(3.0),
                    Some("3".to_owned()),
                    Some("up".to_owned()),
                    0
                ),
                (Some(-1), None, None, Some("down".to_owned()), 0),
                (Some(0), Some(12.0), Some("12".to_owned()), None, 1),
            ],
            "{d:?}"
        );
        let t = got[0].5;
        assert!(
            (chrono::Utc::now() - t).num_minutes().abs() < 5,
            "{d:?}: {t}"
        );

        // Expressions filter and order too.
        let names: Vec<(String,)> = Gadget::query()
            .filter(length(Gadget::name()).ge(3))
            .order_by(length(Gadget::name()).desc())
            .values((Gadget::name(),), &pool)
            .await
            .unwrap();
        assert_eq!(names, vec![("Élan".to_owned(),), ("bob".to_owned(),)]);
    }
}
