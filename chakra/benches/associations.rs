//! Loading associations, diesel's shape: 100 users × 10 posts × 10 comments into each user's
//! posts and each post's comments, on PostgreSQL. Three contenders, interleaved round by
//! round (robust to a shared VM's drift):
//! - Chakra: `User::query().prefetch_related(User::posts().then(Post::comments()))`, three
//!   statements, rows into the models' `Related` fields;
//! - diesel-async: `belonging_to` + `grouped_by` (diesel's documented way), three statements,
//!   into `Vec<(User, Vec<(Post, Vec<Comment>)>)>`;
//! - tokio-postgres by hand: the same three statements, grouped with hash maps.
//!
//! Prints the median wall time per load and the process CPU time per load, and the ratios to
//! tokio-postgres. Run: `cargo bench -p chakra --bench associations` (PostgreSQL at
//! `CHAKRA_BENCH_PG_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`; a database
//! `chakra_bench_assoc` is created).

#[path = "common/cpu.rs"]
mod cpu;
use chakra::prelude::*;
use cpu::cpu_time;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Model)]
#[chakra(table = "users")]
pub struct AUser {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub username: String,
    #[chakra(relation = OneToMany, foreign_key = "author_id")]
    pub posts: Related<Vec<APost>>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "posts")]
pub struct APost {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub author_id: i64,
    pub title: String,
    #[chakra(relation = ForeignKey, foreign_key = "author_id", on_delete = Cascade)]
    pub author: Related<AUser>,
    #[chakra(relation = OneToMany, foreign_key = "post_id")]
    pub comments: Related<Vec<AComment>>,
}

#[derive(Debug, Clone, Model)]
#[chakra(table = "comments")]
pub struct AComment {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub post_id: i64,
    pub body: String,
    #[chakra(relation = ForeignKey, foreign_key = "post_id", on_delete = Cascade)]
    pub post: Related<APost>,
}

mod d {
    use diesel::prelude::*;

    diesel::table! {
        users (id) {
            id -> BigInt,
            username -> Text,
        }
    }
    diesel::table! {
        posts (id) {
            id -> BigInt,
            author_id -> BigInt,
            title -> Text,
        }
    }
    diesel::table! {
        comments (id) {
            id -> BigInt,
            post_id -> BigInt,
            body -> Text,
        }
    }
    diesel::joinable!(posts -> users (author_id));
    diesel::joinable!(comments -> posts (post_id));
    diesel::allow_tables_to_appear_in_same_query!(users, posts, comments);

    #[derive(Debug, Queryable, Identifiable, Selectable)]
    #[diesel(table_name = users)]
    pub struct User {
        pub id: i64,
        pub username: String,
    }

    #[derive(Debug, Queryable, Identifiable, Selectable, Associations)]
    #[diesel(table_name = posts, belongs_to(User, foreign_key = author_id))]
    pub struct Post {
        pub id: i64,
        pub author_id: i64,
        pub title: String,
    }

    #[derive(Debug, Queryable, Identifiable, Selectable, Associations)]
    #[diesel(table_name = comments, belongs_to(Post))]
    pub struct Comment {
        pub id: i64,
        pub post_id: i64,
        pub body: String,
    }
}

fn pg_admin() -> String {
    std::env::var("CHAKRA_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn pg_url() -> String {
    let (client, conn) = tokio_postgres::connect(&pg_admin(), tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL for the benchmark");
    let h = tokio::spawn(conn);
    client
        .batch_execute("DROP DATABASE IF EXISTS chakra_bench_assoc WITH (FORCE)")
        .await
        .unwrap();
    client
        .batch_execute("CREATE DATABASE chakra_bench_assoc")
        .await
        .unwrap();
    drop(client);
    let _ = h.await;
    let mut u = url::Url::parse(&pg_admin()).unwrap();
    u.set_path("/chakra_bench_assoc");
    u.to_string()
}

type Shape = Vec<(i64, Vec<(i64, Vec<i64>)>)>;

async fn chakra_load(pool: &Pool) -> Shape {
    let users = AUser::query()
        .prefetch_related(AUser::posts().then(APost::comments()))
        .all(pool)
        .await
        .unwrap();
    users
        .iter()
        .map(|u| {
            (
                u.id,
                u.posts
                    .get()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        (
                            p.id,
                            p.comments.get().unwrap().iter().map(|c| c.id).collect(),
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

/// The same three statements through the executor alone (rows as `Vec<Value>`, no models,
/// no grouping): how much of Chakra's time is fetching and decoding.
async fn chakra_rows(pool: &Pool) -> usize {
    let plan = AUser::query()
        .prefetch_related(AUser::posts().then(APost::comments()))
        .load_plan()
        .unwrap();
    let users = pool
        .fetch(&Statement::Select(plan.select.clone()))
        .await
        .unwrap();
    let uids: Vec<chakra::dsl::Value> = users.iter().map(|r| r[0].clone()).collect();
    let p = &plan.root.prefetch[0];
    let posts = pool.fetch(&p.statement(uids)).await.unwrap();
    let pids: Vec<chakra::dsl::Value> = posts.iter().map(|r| r[0].clone()).collect();
    let comments = pool
        .fetch(&p.node.prefetch[0].statement(pids))
        .await
        .unwrap();
    users.len() + posts.len() + comments.len()
}

async fn diesel_load(conn: &mut AsyncPgConnection) -> Shape {
    let users: Vec<d::User> = d::users::table
        .select(d::User::as_select())
        .load(conn)
        .await
        .unwrap();
    let posts: Vec<d::Post> = d::Post::belonging_to(&users)
        .select(d::Post::as_select())
        .load(conn)
        .await
        .unwrap();
    let comments: Vec<d::Comment> = d::Comment::belonging_to(&posts)
        .select(d::Comment::as_select())
        .load(conn)
        .await
        .unwrap();
    let grouped_comments = comments.grouped_by(&posts);
    let posts_with: Vec<Vec<(d::Post, Vec<d::Comment>)>> =
        posts.into_iter().zip(grouped_comments).grouped_by(&users);
    users
        .into_iter()
        .zip(posts_with)
        .map(|(u, ps)| {
            (
                u.id,
                ps.into_iter()
                    .map(|(p, cs)| (p.id, cs.into_iter().map(|c| c.id).collect()))
                    .collect(),
            )
        })
        .collect()
}

/// The raw driver's three statements, prepared once (as any careful hand-written code would).
struct RawStatements {
    users: tokio_postgres::Statement,
    posts: tokio_postgres::Statement,
    comments: tokio_postgres::Statement,
}

async fn raw_prepare(client: &tokio_postgres::Client) -> RawStatements {
    RawStatements {
        users: client
            .prepare("SELECT id, username FROM users")
            .await
            .unwrap(),
        posts: client
            .prepare("SELECT id, author_id, title FROM posts WHERE author_id = ANY($1) ORDER BY id")
            .await
            .unwrap(),
        comments: client
            .prepare("SELECT id, post_id, body FROM comments WHERE post_id = ANY($1) ORDER BY id")
            .await
            .unwrap(),
    }
}

async fn raw_load(client: &tokio_postgres::Client, st: &RawStatements) -> Shape {
    let users = client.query(&st.users, &[]).await.unwrap();
    let uids: Vec<i64> = users.iter().map(|r| r.get(0)).collect();
    let posts = client.query(&st.posts, &[&uids]).await.unwrap();
    let pids: Vec<i64> = posts.iter().map(|r| r.get(0)).collect();
    let comments = client.query(&st.comments, &[&pids]).await.unwrap();
    let mut by_post: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    for c in &comments {
        by_post
            .entry(c.get(1))
            .or_default()
            .push((c.get(0), c.get(2)));
    }
    type PostRow = (i64, String, Vec<(i64, String)>);
    let mut by_user: HashMap<i64, Vec<PostRow>> = HashMap::new();
    for p in &posts {
        let id: i64 = p.get(0);
        by_user.entry(p.get(1)).or_default().push((
            id,
            p.get(2),
            by_post.remove(&id).unwrap_or_default(),
        ));
    }
    users
        .iter()
        .map(|u| {
            let id: i64 = u.get(0);
            let _name: String = u.get(1);
            (
                id,
                by_user
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(p, _, cs)| (p, cs.into_iter().map(|c| c.0).collect()))
                    .collect(),
            )
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let url = pg_url().await;
        let pool = Pool::connect(&url).await.unwrap();
        chakra::schema::create_tables(
            &pool,
            &[AUser::meta(), APost::meta(), AComment::meta()],
            false,
        )
        .await
        .unwrap();
        let mut users: Vec<AUser> = (0..100)
            .map(|i| AUser {
                id: 0,
                username: format!("user{i}"),
                ..Default::default()
            })
            .collect();
        AUser::insert_many(&pool, &mut users).await.unwrap();
        let mut posts: Vec<APost> = users
            .iter()
            .flat_map(|u| {
                (0..10).map(move |i| APost {
                    id: 0,
                    author_id: u.id,
                    title: format!("post {i} of {}", u.username),
                    ..Default::default()
                })
            })
            .collect();
        APost::insert_many(&pool, &mut posts).await.unwrap();
        let mut comments: Vec<AComment> = posts
            .iter()
            .flat_map(|p| {
                (0..10).map(move |i| AComment {
                    id: 0,
                    post_id: p.id,
                    body: format!("comment {i} on post {}", p.id),
                    ..Default::default()
                })
            })
            .collect();
        AComment::insert_many(&pool, &mut comments).await.unwrap();

        let mut dconn = AsyncPgConnection::establish(&url).await.unwrap();
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let st = raw_prepare(&client).await;

        // Same shape from all three (users in id order for the comparison).
        let mut a = chakra_load(&pool).await;
        let mut b = diesel_load(&mut dconn).await;
        let mut c = raw_load(&client, &st).await;
        a.sort();
        b.sort();
        c.sort();
        assert_eq!(a, b, "chakra and diesel load the same graph");
        assert_eq!(a, c, "chakra and tokio-postgres load the same graph");
        assert_eq!(a.iter().map(|u| u.1.len()).sum::<usize>(), 1_000);

        let rounds = 40;
        let per_round = 5;
        assert_eq!(chakra_rows(&pool).await, 11_100);
        let mut wall = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
        let mut cpu = [Duration::ZERO; 4];
        for r in 0..rounds + 3 {
            for which in 0..4 {
                let c0 = cpu_time();
                let t0 = Instant::now();
                for _ in 0..per_round {
                    match which {
                        0 => drop(chakra_load(&pool).await),
                        1 => drop(diesel_load(&mut dconn).await),
                        2 => drop(raw_load(&client, &st).await),
                        _ => drop(chakra_rows(&pool).await),
                    }
                }
                let el = t0.elapsed() / per_round;
                let used = cpu_time() - c0;
                if r >= 3 {
                    wall[which].push(el);
                    cpu[which] += used;
                }
            }
        }
        let names = [
            "chakra",
            "diesel-async",
            "tokio-postgres",
            "chakra rows only",
        ];
        let meds: Vec<Duration> = wall.iter().map(|w| median(w.clone())).collect();
        let loads = rounds * per_round;
        println!("associations: 100 users x 10 posts x 10 comments, PostgreSQL");
        println!(
            "{:<16} {:>12} {:>10} {:>12} {:>10}",
            "", "wall/load", "÷ raw", "cpu/load", "÷ raw"
        );
        for i in 0..4 {
            println!(
                "{:<16} {:>10.2?} {:>9.2}x {:>10.2?} {:>9.2}x",
                names[i],
                meds[i],
                meds[i].as_secs_f64() / meds[2].as_secs_f64(),
                cpu[i] / loads,
                cpu[i].as_secs_f64() / cpu[2].as_secs_f64().max(1e-9),
            );
        }
    });
}
