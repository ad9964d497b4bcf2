//! Upsert from the Rust front door: `chakra::upsert(&mut rows).on_conflict(User::email())
//! .do_update((User::name(), User::balance())).execute(&pool)` or `.do_nothing()`: one
//! `INSERT … ON CONFLICT` per bulk-insert group (chunked to the bind limit), the same
//! statement Python's `bulk_create(update_conflicts=True, …)` builds.

use crate::exec::Executor;
use crate::model::{write, Model};
use chakra_dsl::typed::group::GroupKey;
use chakra_dsl::{Error, Expr, OnConflict, Result, Statement, Upsert};

/// Rows to insert, with what a conflicting row does.
pub struct UpsertRows<'a, M> {
    models: &'a mut [M],
    columns: Vec<String>,
    update: Vec<String>,
}

/// Starts an upsert of `models`.
pub fn upsert<M: Model>(models: &mut [M]) -> UpsertRows<'_, M> {
    UpsertRows {
        models,
        columns: Vec::new(),
        update: Vec::new(),
    }
}

fn column_names<M, K: GroupKey<M>>(cols: K) -> Vec<String> {
    cols.columns()
        .into_iter()
        .map(|k| match k.expr {
            Expr::Column(c) => c.column,
            _ => k.name,
        })
        .collect()
}

impl<'a, M: Model> UpsertRows<'a, M> {
    /// The unique column(s) whose conflict is handled: one column or a tuple.
    pub fn on_conflict<K: GroupKey<M>>(mut self, cols: K) -> Self {
        self.columns = column_names(cols);
        self
    }

    /// On conflict, set these columns from the proposed row; generated keys and defaults of
    /// every row (inserted or updated) are written back.
    pub fn do_update<K: GroupKey<M>>(mut self, cols: K) -> Self {
        self.update = column_names(cols);
        self
    }

    /// On conflict, skip the row (nothing is written back: a skipped row has no new key).
    pub fn do_nothing(mut self) -> Self {
        self.update.clear();
        self
    }

    /// Runs it; returns the number of rows inserted or updated.
    pub async fn execute<E: Executor>(self, mut exec: E) -> Result<u64> {
        let UpsertRows {
            models,
            columns,
            update,
        } = self;
        if !update.is_empty() && columns.is_empty() {
            return Err(Error::InvalidQuery(format!(
                "upsert of {}: do_update needs on_conflict(columns)",
                M::NAME
            )));
        }
        let mut total = 0u64;
        for group in write::insert_groups(models) {
            let (stmt, idx) = group?;
            let Statement::Insert(insert) = stmt else {
                unreachable!("insert_groups builds inserts")
            };
            let up = Statement::Upsert(Upsert {
                insert,
                on_conflict: OnConflict {
                    columns: columns.clone(),
                    update: update.clone(),
                },
            });
            let rows = exec.fetch(&up).await?;
            total += rows.len() as u64;
            if !update.is_empty() {
                if rows.len() != idx.len() {
                    return Err(Error::InvalidQuery(format!(
                        "upsert of {} returned {} rows for {} objects",
                        M::NAME,
                        rows.len(),
                        idx.len()
                    )));
                }
                for (row, i) in rows.into_iter().zip(idx) {
                    models[i].apply_row(row)?;
                }
            }
        }
        Ok(total)
    }
}
