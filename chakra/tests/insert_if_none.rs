//! "Insert only if none exists" under concurrency (issue 19): at most one open loan per book
//! when 20 requests ask at once. The recipe: lock the parent row first (`get_for_update`),
//! then check, then insert; the requests for one book queue on its lock.

mod common;

use chakra::prelude::*;
use chakra::PoolOptions;
use common::{TestDb, TARGETS_MYSQL};

/// A book that can be lent.
#[derive(Debug, Clone, Model)]
#[chakra(table = "books")]
pub struct Book {
    #[chakra(primary_key)]
    pub id: i64,
    #[chakra(max_length = 100)]
    pub title: String,
}

/// A loan of a book; open until returned.
#[derive(Debug, Clone, Model)]
#[chakra(table = "loans")]
pub struct Loan {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub book_id: i64,
    pub borrower: i64,
    pub returned: bool,
}

/// Lends book `book` to `borrower` unless it has an open loan; true when this request won.
async fn lend(pool: &Pool, book: i64, borrower: i64) -> chakra::Result<bool> {
    Session::new(pool)
        .transaction(|tx| async move {
            // The lock on the book serialises the requests for it (not for other books).
            if tx.get_for_update::<Book>(book).await?.is_none() {
                return Ok(false);
            }
            let open = Loan::query()
                .filter(Loan::book_id().eq(book))
                .filter(Loan::returned().eq(false))
                .exists(&tx)
                .await?;
            if open {
                return Ok(false);
            }
            let mut loan = [Loan {
                id: 0,
                book_id: book,
                borrower,
                returned: false,
            }];
            Loan::insert_many(&tx, &mut loan).await?;
            Ok(true)
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_requests_open_one_loan_per_book() {
    for d in TARGETS_MYSQL {
        let db = TestDb::on(d).await;
        let pool = Pool::connect_with(
            &db.url,
            PoolOptions {
                max_size: 10,
                ..PoolOptions::default()
            },
        )
        .await
        .unwrap();
        chakra::schema::create_tables(&pool, &[Book::meta(), Loan::meta()], false)
            .await
            .unwrap();
        let mut books: Vec<Book> = (1..=2)
            .map(|id| Book {
                id,
                title: format!("book {id}"),
            })
            .collect();
        Book::insert_many(&pool, &mut books).await.unwrap();
        // 20 requests for book 1 and 20 for book 2, all at once.
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let pool = pool.clone();
                tokio::spawn(async move { (i % 2 + 1, lend(&pool, i % 2 + 1, i).await) })
            })
            .collect();
        let mut won = [0, 0];
        for t in tasks {
            let (book, r) = t.await.unwrap();
            if r.unwrap_or_else(|e| panic!("{d:?}: {e}")) {
                won[(book - 1) as usize] += 1;
            }
        }
        assert_eq!(won, [1, 1], "{d:?}: one request per book wins");
        let loans = Loan::query().all(&pool).await.unwrap();
        let open = |b: i64| {
            loans
                .iter()
                .filter(|l| l.book_id == b && !l.returned)
                .count()
        };
        assert_eq!((loans.len(), open(1), open(2)), (2, 1, 1), "{d:?}");
        // Once returned, the next request wins again.
        Loan::query()
            .filter(Loan::book_id().eq(1))
            .update()
            .set(Loan::returned(), true)
            .execute(&pool)
            .await
            .unwrap();
        assert!(lend(&pool, 1, 99).await.unwrap(), "{d:?}");
        assert!(!lend(&pool, 1, 98).await.unwrap(), "{d:?}");
    }
}
