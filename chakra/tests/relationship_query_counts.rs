//! How many statements relationship loading runs, counted from the `tracing` events every
//! statement emits (target `chakra::sql`): `select_related` over 1,000 posts is one query,
//! `prefetch_related("posts")` over 1,000 users × 10 posts is two, nested prefetches one per
//! level. One test function, so no other test of this binary runs statements meanwhile.

mod blog;
mod common;

use blog::{blog, comment, post, user, Comment, Post, User};
use chakra::prelude::*;
use common::ALL3;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

struct Count(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for Count {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "chakra::sql" {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eager_loading_runs_one_statement_per_level() {
    let n = Arc::new(AtomicUsize::new(0));
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Count(n.clone())))
        .unwrap();
    let counted = |n: &Arc<AtomicUsize>| n.swap(0, Ordering::SeqCst);
    for d in ALL3 {
        let (_db, pool) = blog(d).await;
        let mut users: Vec<User> = (0..1_000).map(|i| user(&format!("u{i}"))).collect();
        User::insert_many(&pool, &mut users).await.unwrap();
        let mut posts: Vec<Post> = users
            .iter()
            .flat_map(|u| (0..10).map(move |i| post(u, &format!("p{i}"))))
            .collect();
        Post::insert_many(&pool, &mut posts).await.unwrap();
        let mut comments: Vec<Comment> = posts
            .iter()
            .step_by(10)
            .map(|p| comment(p, &users[0], "c"))
            .collect();
        Comment::insert_many(&pool, &mut comments).await.unwrap();

        counted(&n);
        let ps = Post::query()
            .select_related(Post::author())
            .limit(1_000)
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(ps.len(), 1_000);
        assert!(ps.iter().all(|p| p.author.get().unwrap().id == p.author_id));
        assert_eq!(counted(&n), 1, "{d:?}: select_related is one query");

        let us = User::query()
            .prefetch_related(User::posts())
            .all(&pool)
            .await
            .unwrap();
        assert_eq!(us.len(), 1_000);
        assert!(us.iter().all(|u| u.posts.get().unwrap().len() == 10));
        assert_eq!(counted(&n), 2, "{d:?}: prefetch is one query per level");

        let us = User::query()
            .prefetch_related(User::posts().then(Post::comments()))
            .all(&pool)
            .await
            .unwrap();
        let total: usize = us
            .iter()
            .flat_map(|u| u.posts.get().unwrap())
            .map(|p| p.comments.get().unwrap().len())
            .sum();
        assert_eq!(total, 1_000);
        assert_eq!(counted(&n), 3, "{d:?}: two levels, three queries");
    }
}
