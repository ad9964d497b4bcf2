//! `bench_users` (created by the executor bench) as a derived model, shared by the benches
//! that read it.

use chrono::{DateTime, Utc};

/// One row of `bench_users`.
#[derive(Debug, Clone, chakra::Model)]
#[chakra(table = "bench_users")]
pub struct BenchUser {
    #[chakra(primary_key, auto_increment)]
    pub id: i64,
    pub username: String,
    pub email: String,
    pub active: bool,
    pub balance: i64,
    pub created_at: DateTime<Utc>,
}
