//! `#[chakra(ordering = "…")]`, the default ordering held in `ModelMeta` (the same one
//! Python's `class Meta: ordering` gives): applied to plain queries, `first`, related rows
//! and prefetches; dropped by `count`, `exists`, `aggregate` and grouped queries; replaced
//! by `order_by`. Expected orders are sorted in the test from the rows it writes, on SQLite
//! and PostgreSQL.

mod common;

use chakra::prelude::*;
use chakra::Dialect;
use common::ALL3;

#[derive(Debug, Clone, Model)]
#[chakra(table = "mo_shelves", ordering = "-name")]
pub struct MoShelf {
    #[chakra(primary_key)]
    pub id: i64,
    #[chakra(max_length = 20)]
    pub name: String,
    #[chakra(relation = OneToMany, foreign_key = "shelf_id")]
    pub books: Related<Vec<MoBook>>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "mo_books", ordering = "-pages, title")]
pub struct MoBook {
    #[chakra(primary_key)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub title: String,
    pub pages: i32,
    #[chakra(max_length = 20)]
    pub genre: String,
    pub shelf_id: i64,
    #[chakra(relation = ForeignKey, foreign_key = "shelf_id")]
    pub shelf: Related<MoShelf>,
}

const SHELVES: [(i64, &str); 3] = [(1, "alpha"), (2, "gamma"), (3, "beta")];
// (id, title, pages, genre, shelf_id): ties on pages so the second key matters.
const BOOKS: [(i64, &str, i32, &str, i64); 6] = [
    (1, "dune", 300, "sf", 1),
    (2, "emma", 200, "novel", 2),
    (3, "anna", 300, "novel", 1),
    (4, "beowulf", 100, "poem", 3),
    (5, "carrie", 200, "horror", 1),
    (6, "aeneid", 100, "poem", 2),
];

/// Titles of the rows `keep` selects, in `-pages, title` order.
fn by_default(keep: impl Fn(&(i64, &str, i32, &str, i64)) -> bool) -> Vec<String> {
    let mut rows: Vec<_> = BOOKS.iter().filter(|r| keep(r)).collect();
    rows.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(b.1)));
    rows.iter().map(|r| r.1.to_owned()).collect()
}

fn titles(rows: &[MoBook]) -> Vec<String> {
    rows.iter().map(|b| b.title.clone()).collect()
}

fn pg(stmt: &chakra::dsl::Statement) -> String {
    chakra::sql::compile(stmt, Dialect::Postgres)
        .unwrap()
        .sql()
        .to_owned()
}

#[test]
fn the_meta_holds_the_ordering() {
    let keys: Vec<(String, bool)> = MoBook::meta()
        .ordering
        .iter()
        .map(|k| (k.field.clone(), k.desc))
        .collect();
    assert_eq!(keys, [("pages".into(), true), ("title".into(), false)]);
    let q = MoBook::query();
    let all = pg(&q.to_statement());
    assert!(
        all.ends_with("ORDER BY \"mo_books\".\"pages\" DESC, \"mo_books\".\"title\""),
        "{all}"
    );
    for (what, stmt) in [
        ("count", q.model_query().count()),
        ("exists", q.model_query().exists()),
        (
            "aggregate",
            q.model_query()
                .aggregate(vec![(
                    "n".into(),
                    q.model_query()
                        .aggregate_expr(chakra::dsl::AggFunc::Count, None, false, None)
                        .unwrap(),
                )])
                .unwrap(),
        ),
    ] {
        let sql = pg(&stmt);
        assert!(!sql.contains("ORDER BY"), "{what}: {sql}");
    }
    let replaced = pg(&MoBook::query()
        .order_by(MoBook::genre().asc())
        .to_statement());
    assert!(
        replaced.ends_with("ORDER BY \"mo_books\".\"genre\""),
        "{replaced}"
    );
    let grouped = MoBook::query()
        .group_by(MoBook::genre())
        .aggregate(count(MoBook::id()))
        .to_statement()
        .unwrap();
    let sql = pg(&grouped);
    assert!(!sql.contains("ORDER BY"), "{sql}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_ordering_on_both_backends() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[MoShelf::meta(), MoBook::meta()], false)
            .await
            .unwrap();
        let mut shelves: Vec<MoShelf> = SHELVES
            .iter()
            .map(|&(id, name)| MoShelf {
                id,
                name: name.into(),
                books: Related::default(),
            })
            .collect();
        MoShelf::insert_many(&pool, &mut shelves).await.unwrap();
        let mut books: Vec<MoBook> = BOOKS
            .iter()
            .map(|&(id, title, pages, genre, shelf_id)| MoBook {
                id,
                title: title.into(),
                pages,
                genre: genre.into(),
                shelf_id,
                shelf: Related::default(),
            })
            .collect();
        MoBook::insert_many(&pool, &mut books).await.unwrap();

        let all = MoBook::query().all(&pool).await.unwrap();
        assert_eq!(titles(&all), by_default(|_| true), "{d:?}");
        let novels = MoBook::query()
            .filter(MoBook::genre().eq("novel"))
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(titles(&novels), by_default(|r| r.3 == "novel"), "{d:?}");
        let first = MoBook::query().first(&pool).await.unwrap().unwrap();
        assert_eq!(first.title, by_default(|_| true)[0], "{d:?}");
        let sliced = MoBook::query().offset(1).limit(2).all(&pool).await.unwrap();
        assert_eq!(titles(&sliced), by_default(|_| true)[1..3], "{d:?}");
        let mut by_title: Vec<String> = BOOKS.iter().map(|r| r.1.to_owned()).collect();
        by_title.sort();
        let replaced = MoBook::query()
            .order_by(MoBook::title().asc())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(titles(&replaced), by_title, "{d:?}");

        assert_eq!(MoBook::query().count(&pool).await.unwrap(), 6, "{d:?}");
        assert!(MoBook::query().exists(&pool).await.unwrap());
        let mut genres: Vec<(String, i64)> = MoBook::query()
            .group_by(MoBook::genre())
            .aggregate(count(MoBook::id()))
            .all(&pool)
            .await
            .unwrap();
        genres.sort();
        let mut expected: Vec<(String, i64)> = Vec::new();
        for r in BOOKS {
            match expected.iter_mut().find(|(g, _)| g == r.3) {
                Some((_, n)) => *n += 1,
                None => expected.push((r.3.to_owned(), 1)),
            }
        }
        expected.sort();
        assert_eq!(genres, expected, "{d:?}");

        // Related rows and prefetches follow the target's default ordering.
        let one = shelves.iter().find(|s| s.id == 1).unwrap();
        let related = one.related(MoShelf::books()).all(&pool).await.unwrap();
        assert_eq!(titles(&related), by_default(|r| r.4 == 1), "{d:?}");
        let loaded = MoShelf::query()
            .prefetch_related(MoShelf::books())
            .all(&pool)
            .await
            .unwrap();
        let mut names: Vec<&str> = SHELVES.iter().map(|s| s.1).collect();
        names.sort_by(|a, b| b.cmp(a));
        let got: Vec<&str> = loaded.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(got, names, "{d:?}");
        for s in &loaded {
            let sid = s.id;
            assert_eq!(
                titles(s.books.get().unwrap()),
                by_default(|r| r.4 == sid),
                "{d:?}"
            );
        }
    }
}

/// A model with a validation hook: a title must not be blank, `pages` must be positive,
/// and a poem is short (a message about the whole object).
#[derive(Debug, Clone, Model)]
#[chakra(table = "mo_checked", hooks)]
pub struct MoChecked {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub title: String,
    pub pages: i32,
    #[chakra(max_length = 20)]
    pub genre: String,
}

impl Hooks for MoChecked {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if self.title.trim().is_empty() {
            e.add("title", "must not be blank");
        }
        if self.pages <= 0 {
            e.add("pages", "must be positive");
        }
        if self.genre == "poem" && self.pages > 100 {
            e.add(
                chakra::model::hooks::NON_FIELD,
                "a poem has at most 100 pages",
            );
        }
        e.result()
    }
}

fn checked(title: &str, pages: i32, genre: &str) -> MoChecked {
    MoChecked {
        id: 0,
        title: title.into(),
        pages,
        genre: genre.into(),
    }
}

fn validation(e: Error) -> std::collections::BTreeMap<String, Vec<String>> {
    match e {
        Error::Validation { model, errors } => {
            assert_eq!(model, "MoChecked");
            errors
        }
        other => panic!("expected Validation, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_runs_before_every_write_of_objects() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[MoChecked::meta()], false)
            .await
            .unwrap();
        let mut bad = checked(" ", 0, "sf");
        let errors = validation(bad.save(&pool).await.unwrap_err());
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["pages", "title"],
            "{d:?}"
        );
        assert_eq!(errors["title"], ["must not be blank"]);
        let msg = format!(
            "{}",
            Error::Validation {
                model: "MoChecked".into(),
                errors
            }
        );
        assert!(msg.contains("title: must not be blank"), "{msg}");

        let mut poem = checked("odyssey", 500, "poem");
        let errors = validation(poem.save(&pool).await.unwrap_err());
        assert_eq!(errors["__all__"], ["a poem has at most 100 pages"]);

        // insert_many refuses the whole batch when one object is invalid: nothing written.
        let mut rows = vec![checked("ok", 10, "sf"), checked("", 10, "sf")];
        validation(MoChecked::insert_many(&pool, &mut rows).await.unwrap_err());
        validation(MoChecked::insert_all(&pool, &rows).await.unwrap_err());
        assert_eq!(MoChecked::query().count(&pool).await.unwrap(), 0, "{d:?}");

        // A valid object is written; an update that breaks it is refused, the row kept.
        let mut good = checked("ok", 10, "sf");
        good.save(&pool).await.unwrap();
        good.pages = -1;
        validation(good.save(&pool).await.unwrap_err());
        validation(
            good.save_fields(&pool, MoChecked::pages())
                .await
                .unwrap_err(),
        );
        let stored = MoChecked::get(&pool, good.id).await.unwrap();
        assert_eq!(stored.pages, 10, "{d:?}");
    }
}

/// `auto_now_add` and `auto_now` fields, set by the core's clock at `save`/`insert_many`.
#[derive(Debug, Clone, Model)]
#[chakra(table = "mo_stamped")]
pub struct MoStamped {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub title: String,
    #[chakra(auto_now_add)]
    pub created: Option<chrono::DateTime<chrono::Utc>>,
    #[chakra(auto_now)]
    pub changed: Option<chrono::DateTime<chrono::Utc>>,
    #[chakra(auto_now)]
    pub day: Option<chrono::NaiveDate>,
}

fn stamped(title: &str) -> MoStamped {
    MoStamped {
        id: 0,
        title: title.into(),
        created: None,
        changed: None,
        day: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_now_and_auto_now_add() {
    use chakra::dsl::meta::AutoNow;
    let meta = MoStamped::meta();
    assert_eq!(meta.field("created").unwrap().auto_now, AutoNow::OnAdd);
    assert_eq!(meta.field("changed").unwrap().auto_now, AutoNow::OnSave);
    assert_eq!(meta.field("title").unwrap().auto_now, AutoNow::Off);
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[MoStamped::meta()], false)
            .await
            .unwrap();
        let t0 = chrono::Utc::now();
        let mut a = stamped("a");
        a.save(&pool).await.unwrap();
        let t1 = chrono::Utc::now();
        let created = a.created.unwrap();
        assert!(t0 <= created && created <= t1, "{d:?}");
        assert_eq!(a.changed, a.created);
        assert_eq!(a.day, Some(created.date_naive()));
        let row = MoStamped::get(&pool, a.id).await.unwrap();
        assert_eq!(
            (row.created, row.changed, row.day),
            (a.created, a.changed, a.day)
        );

        // An update moves auto_now and keeps auto_now_add.
        let first_changed = a.changed;
        a.title = "a2".into();
        a.save(&pool).await.unwrap();
        assert!(a.changed > first_changed, "{d:?}");
        let row = MoStamped::get(&pool, a.id).await.unwrap();
        assert_eq!((row.created, row.changed), (Some(created), a.changed));

        // insert_many: one instant for the batch, over any value given.
        let old = chrono::DateTime::<chrono::Utc>::from_timestamp(946_684_800, 0).unwrap();
        let mut rows = vec![stamped("x"), stamped("y")];
        rows[0].created = Some(old);
        MoStamped::insert_many(&pool, &mut rows).await.unwrap();
        assert!(rows[0].created.unwrap() > old);
        assert_eq!(rows[0].created, rows[1].created);
        let row = MoStamped::get(&pool, rows[0].id).await.unwrap();
        assert_eq!(row.created, rows[0].created, "{d:?}");

        // A query update leaves them alone, as Django's update() does.
        let before = MoStamped::get(&pool, a.id).await.unwrap().changed;
        MoStamped::query()
            .filter(MoStamped::id().eq(a.id))
            .update()
            .set(MoStamped::title(), "a3".to_owned())
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(MoStamped::get(&pool, a.id).await.unwrap().changed, before);
    }
}

/// A Rust `Session` validates and stamps what it writes, as `save` does (and as the Python
/// session does): an invalid object refuses the whole unit of work before any statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_validates_and_stamps_what_it_writes() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[MoStamped::meta(), MoChecked::meta()], false)
            .await
            .unwrap();
        let t0 = chrono::Utc::now();
        let mut a = stamped("a");
        {
            let session = Session::new(&pool);
            session.add(&mut a);
            session.commit().await.unwrap();
        }
        let created = a.created.expect("auto_now_add set by the session");
        assert!(t0 <= created, "{d:?}");
        assert_eq!(a.changed, Some(created));
        let row = MoStamped::get(&pool, a.id).await.unwrap();
        assert_eq!((row.created, row.changed), (a.created, a.changed), "{d:?}");

        // A keyed save through the session moves auto_now and keeps auto_now_add.
        a.title = "a2".into();
        {
            let session = Session::new(&pool);
            session.add(&mut a);
            session.commit().await.unwrap();
        }
        assert!(
            a.changed > Some(created) && a.created == Some(created),
            "{d:?}"
        );
        let row = MoStamped::get(&pool, a.id).await.unwrap();
        assert_eq!((row.created, row.changed), (Some(created), a.changed));

        // One invalid object: nothing of the unit of work is written.
        let mut good = checked("fine", 10, "novel");
        let mut bad = checked(" ", 10, "novel");
        let session = Session::new(&pool);
        session.add(&mut good);
        session.add(&mut bad);
        let errors = validation(session.commit().await.unwrap_err());
        assert!(errors.contains_key("title"), "{errors:?}");
        assert_eq!(MoChecked::query().count(&pool).await.unwrap(), 0, "{d:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracked_changed_row_is_stamped_and_validated_at_flush() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        chakra::schema::create_tables(&pool, &[MoStamped::meta(), MoChecked::meta()], false)
            .await
            .unwrap();
        let mut a = stamped("a");
        a.save(&pool).await.unwrap();
        let (created, first) = (a.created, a.changed);
        let session = Session::new(&pool);
        let id = a.id;
        let before = chrono::Utc::now();
        session
            .transaction(|tx| async move {
                let mut row = tx.get::<MoStamped>(id).await?.expect("row");
                row.title = "a2".into();
                Ok(())
            })
            .await
            .unwrap();
        let row = MoStamped::get(&pool, id).await.unwrap();
        assert_eq!(row.title, "a2");
        assert_eq!(row.created, created, "auto_now_add kept, {d:?}");
        let changed = row.changed.expect("auto_now set");
        assert!(
            Some(changed) > first && changed >= before - chrono::Duration::milliseconds(1),
            "{d:?}: {changed} vs {first:?}"
        );
        assert_eq!(row.day, Some(changed.date_naive()), "{d:?}");

        // An unchanged tracked row writes nothing, so its auto_now stays.
        session
            .transaction(|tx| async move {
                let _row = tx.get::<MoStamped>(id).await?.expect("row");
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(
            MoStamped::get(&pool, id).await.unwrap().changed,
            Some(changed)
        );

        // A tracked change that breaks validation fails the commit; the row is kept.
        let mut ok = checked("ok", 10, "sf");
        ok.save(&pool).await.unwrap();
        let oid = ok.id;
        let err = session
            .transaction(|tx| async move {
                let mut row = tx.get::<MoChecked>(oid).await?.expect("row");
                row.pages = -1;
                Ok(())
            })
            .await
            .unwrap_err();
        assert!(validation(err).contains_key("pages"), "{d:?}");
        assert_eq!(MoChecked::get(&pool, oid).await.unwrap().pages, 10, "{d:?}");
    }
}
