//! The Rust half of the polyglot example: an axum service over the database the Python
//! service and worker use, through the same migrations (`migrations/` at the repository root).
//!
//! `polyglot-api <database url> <port>` serves:
//! - `GET /users/{id}`: a user (its balance is what the Python worker computed);
//! - `POST /users/{id}/posts` with `{"title": …}`: a post by that user.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chakra::prelude::*;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// The `users` table (the fields this service reads).
#[derive(Debug, Clone, Model)]
#[chakra(table = "users")]
pub struct User {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    #[chakra(max_length = 50, unique)]
    pub username: String,
    #[chakra(max_length = 255, default = "")]
    pub email: String,
    #[chakra(default = "now()")]
    pub created_at: DateTime<Utc>,
    #[chakra(default = true)]
    pub is_active: bool,
    #[chakra(default = 0)]
    pub balance: i64,
}

/// The `posts` table.
#[derive(Debug, Clone, Model)]
#[chakra(table = "posts")]
pub struct Post {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub author_id: i64,
    #[chakra(max_length = 200)]
    pub title: String,
}

fn failure(e: chakra::Error) -> (StatusCode, Json<Value>) {
    let status = match e {
        chakra::Error::NotFound { .. } => StatusCode::NOT_FOUND,
        chakra::Error::BadValue { .. } | chakra::Error::ForeignKeyViolation(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, Json(json!({"error": e.to_string()})))
}

type Reply = Result<Json<Value>, (StatusCode, Json<Value>)>;

async fn get_user(State(pool): State<Pool>, Path(id): Path<i64>) -> Reply {
    let u = User::get(&pool, id).await.map_err(failure)?;
    let posts = Post::query()
        .filter(Post::author_id().eq(id))
        .count(&pool)
        .await
        .map_err(failure)?;
    Ok(Json(json!({
        "id": u.id,
        "username": u.username,
        "balance": u.balance,
        "posts": posts,
        "served_by": "rust",
    })))
}

async fn add_post(State(pool): State<Pool>, Path(id): Path<i64>, Json(body): Json<Value>) -> Reply {
    let title = body["title"].as_str().unwrap_or_default().to_owned();
    let mut p = Post {
        id: 0,
        author_id: id,
        title,
    };
    p.save(&pool).await.map_err(failure)?;
    Ok(Json(json!({"id": p.id, "author_id": id, "title": p.title})))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(port)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: polyglot-api <database url> <port>");
        std::process::exit(2);
    };
    let pool = Pool::connect(url).await.unwrap_or_else(|e| {
        eprintln!("polyglot-api: {e}");
        std::process::exit(1);
    });
    let app = Router::new()
        .route("/users/{id}", get(get_user))
        .route("/users/{id}/posts", post(add_post))
        .with_state(pool);
    let listener =
        tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>().expect("a port")))
            .await
            .expect("bind");
    println!("polyglot-api listening on 127.0.0.1:{port}");
    axum::serve(listener, app).await.expect("serve");
}
