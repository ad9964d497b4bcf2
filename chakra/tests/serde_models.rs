//! The `serde` feature (issue 23): models with relations derive `Serialize`/`Deserialize`
//! and go to JSON and back — loaded relations as their rows, unloaded ones as `null` or left
//! out (`skip_serializing_if = "Related::is_unloaded"`). The JSON is compared with a document
//! written by hand, on SQLite and PostgreSQL.

mod common;
mod fixtures;

use bigdecimal::BigDecimal;
use chakra::prelude::*;
use chrono::NaiveDate;
use common::ALL3;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Model, Serialize, Deserialize)]
#[chakra(table = "authors")]
pub struct Author {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 40)]
    pub name: String,
    #[chakra(relation = OneToMany, foreign_key = "author_id")]
    #[serde(default)]
    pub books: Related<Vec<Book>>,
}

#[derive(Debug, Clone, Model, Serialize, Deserialize)]
#[chakra(table = "books")]
pub struct Book {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub author_id: i64,
    #[chakra(max_length = 80)]
    pub title: String,
    #[chakra(precision = 8, scale = 2)]
    pub price: BigDecimal,
    pub published: NaiveDate,
    pub subtitle: Option<String>,
    #[chakra(relation = ForeignKey, foreign_key = "author_id")]
    #[serde(default, skip_serializing_if = "Related::is_unloaded")]
    pub author: Related<Author>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_with_relations_to_json_and_back() {
    for d in ALL3 {
        let db = common::TestDb::new(d).await;
        let pool = db.pool().await;
        fixtures::create_tables(&pool, &[Author::meta(), Book::meta()]).await;
        let mut ann = Author {
            name: "Ann".into(),
            ..Default::default()
        };
        ann.save(&pool).await.unwrap();
        let mut books = vec![
            Book {
                author_id: ann.id,
                title: "Rust \"in\" depth".into(),
                price: "12.50".parse().unwrap(),
                published: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
                ..Default::default()
            },
            Book {
                author_id: ann.id,
                title: "Zürich".into(),
                price: "0.99".parse().unwrap(),
                published: NaiveDate::from_ymd_opt(1999, 12, 31).unwrap(),
                subtitle: Some("a guide".into()),
                ..Default::default()
            },
        ];
        Book::insert_many(&pool, &mut books).await.unwrap();

        let loaded = Author::query()
            .prefetch_related(Author::books())
            .all(&pool)
            .await
            .unwrap();
        let doc = serde_json::to_value(&loaded[0]).unwrap();
        // bigdecimal's serde writes decimals as strings (exact).
        let expected = json!({
            "id": ann.id,
            "name": "Ann",
            "books": [
                {"id": books[0].id, "author_id": ann.id, "title": "Rust \"in\" depth",
                 "price": "12.50", "published": "2024-02-29", "subtitle": null},
                {"id": books[1].id, "author_id": ann.id, "title": "Zürich",
                 "price": "0.99", "published": "1999-12-31", "subtitle": "a guide"}
            ]
        });
        assert_eq!(doc, expected, "{d:?}");

        // Back: the loaded list is loaded again, the books' unloaded authors stay unloaded.
        let text = serde_json::to_string(&loaded[0]).unwrap();
        let back: Author = serde_json::from_str(&text).unwrap();
        let back_books = back.books.get().unwrap();
        assert_eq!(back_books.len(), 2);
        assert_eq!(back_books[1].title, "Zürich");
        assert_eq!(back_books[0].price, "12.5".parse::<BigDecimal>().unwrap());
        assert!(!back_books[0].author.is_loaded());
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            expected,
            "{d:?}: a round trip"
        );

        // A relation to one row, loaded by a join; an unloaded list is `null`.
        let book = Book::query()
            .select_related(Book::author())
            .order_by(Book::id().asc())
            .first(&pool)
            .await
            .unwrap()
            .unwrap();
        let doc = serde_json::to_value(&book).unwrap();
        assert_eq!(
            doc["author"],
            json!({"id": ann.id, "name": "Ann", "books": null}),
            "{d:?}"
        );
        let back: Book = serde_json::from_value(doc).unwrap();
        assert_eq!(back.author.get().unwrap().name, "Ann");
        assert!(!back.author.get().unwrap().books.is_loaded());

        // A document without the relation fields reads with them unloaded.
        let bare: Author = serde_json::from_value(json!({"id": 7, "name": "Bo"})).unwrap();
        assert!(!bare.books.is_loaded());
        assert!(matches!(
            bare.books.get(),
            Err(chakra::Error::NotLoaded { .. })
        ));
    }
}
