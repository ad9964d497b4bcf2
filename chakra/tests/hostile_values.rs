//! Hostile values round-trip as data and match LIKE patterns literally.

mod common;

use chakra::dsl::*;
use chakra::sql::ddl;
use common::{TestDb, ALL3};
use std::sync::Arc;

const HOSTILE: &[&str] = &[
    "'; DROP TABLE users; --",
    "Robert'); DROP TABLE students;--",
    "%",
    "_",
    "%%__",
    "a%b_c",
    "\\",
    "\\\\%",
    "back\\slash\\_",
    "\"double\" 'single' `tick`",
    "emoji 🎉🔥👩‍👩‍👧",
    "ÅÄÖ ßẞ İı",
    "line\nbreak\ttab\r",
    "$1 ? :name @p0",
];

fn meta() -> Arc<ModelMeta> {
    let mut id = FieldMeta::new("id", FieldType::BigInteger);
    id.primary_key = true;
    id.auto_increment = true;
    Arc::new(ModelMeta {
        name: "Note".into(),
        table: "notes; --".into(),
        fields: vec![
            id,
            FieldMeta::new("body", FieldType::Text),
            FieldMeta::new("blob", FieldType::Bytes),
        ],
        relations: vec![],
        app: None,
        options: Default::default(),
        ordering: Vec::new(),
    })
}

#[tokio::test]
async fn hostile_strings_and_bytes_round_trip_and_match_literally() {
    for d in ALL3 {
        let db = TestDb::new(d).await;
        let pool = db.pool().await;
        let m = meta();
        for sql in chakra::sql::ddl::create_table(&m, d).unwrap() {
            pool.batch_execute(&sql).await.unwrap();
        }
        let rows = HOSTILE
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut blob = s.as_bytes().to_vec();
                blob.insert(0, 0);
                blob.push(0);
                blob.push(i as u8);
                vec![
                    ("body".to_owned(), Value::from(*s)),
                    ("blob".to_owned(), Value::Bytes(blob)),
                ]
            })
            .collect();
        pool.execute(&insert_rows(&m, rows).unwrap().into())
            .await
            .unwrap();
        let q = ModelQuery::new(m.clone())
            .order_by(ModelQuery::new(m.clone()).column("id").unwrap(), false);
        let all = pool.fetch(&q.select().into()).await.unwrap();
        assert_eq!(all.len(), HOSTILE.len(), "{d:?}: the table survived");
        for (row, s) in all.iter().zip(HOSTILE) {
            assert_eq!(row[1], Value::from(*s), "{d:?}");
            let Value::Bytes(b) = &row[2] else { panic!() };
            assert_eq!(b[0], 0);
            assert_eq!(&b[1..b.len() - 2], s.as_bytes(), "{d:?}: NUL-framed bytes");
        }
        let body = q.column("body").unwrap();
        for s in HOSTILE {
            // Each hostile string, used as contains/startswith/endswith/exact text, matches
            // exactly the rows that contain it literally.
            for (kind, pred) in [
                (
                    LikeKind::Contains,
                    (|h: &str, s: &str| h.contains(s)) as fn(&str, &str) -> bool,
                ),
                (LikeKind::StartsWith, |h, s| h.starts_with(s)),
                (LikeKind::EndsWith, |h, s| h.ends_with(s)),
                (LikeKind::Exact, |h, s| h == s),
            ] {
                let got = pool
                    .fetch(
                        &q.clone()
                            .filter(body.clone().like(kind, *s, false))
                            .select_fields(&["body"])
                            .unwrap()
                            .into(),
                    )
                    .await
                    .unwrap();
                let got: Vec<&str> = got.iter().map(|r| r[0].as_str().unwrap()).collect();
                let want: Vec<&str> = HOSTILE.iter().copied().filter(|h| pred(h, s)).collect();
                assert_eq!(got, want, "{d:?} {kind:?} {s:?}");
            }
            let eq = pool
                .fetch(&q.clone().filter(body.clone().eq(Expr::val(*s))).count())
                .await
                .unwrap();
            assert_eq!(eq, vec![vec![Value::I64(1)]], "{d:?} = {s:?}");
        }
        // Case-insensitive, non-ASCII.
        let got = pool
            .fetch(
                &q.clone()
                    .filter(body.clone().like(LikeKind::Contains, "åäö", true))
                    .count(),
            )
            .await
            .unwrap();
        assert_eq!(got, vec![vec![Value::I64(1)]], "{d:?} icontains non-ASCII");
        let got = pool
            .fetch(
                &q.clone()
                    .filter(body.clone().like(LikeKind::Contains, "🎉🔥", false))
                    .count(),
            )
            .await
            .unwrap();
        assert_eq!(got, vec![vec![Value::I64(1)]], "{d:?} emoji");
        let gone = pool.fetch(&q.count()).await.unwrap();
        assert_eq!(gone, vec![vec![Value::I64(HOSTILE.len() as i64)]]);
        drop(ddl::drop_table(&m));
    }
}

#[test]
fn identifiers_with_quotes_or_nul_are_rejected_not_spliced() {
    for bad in ["users\"; DROP TABLE x; --", "nul\0byte", ""] {
        let s = Select::from(Source::table(bad)).column(Expr::Bool(true), ValueType::Bool);
        for d in ALL3 {
            let err = chakra::compile(&s.clone().into(), d).unwrap_err();
            assert!(matches!(err, Error::InvalidIdentifier { .. }), "{err}");
            assert!(err.to_string().contains("invalid identifier"), "{err}");
        }
    }
}
