//! [`Query::stream`]: a query's rows read a chunk at a time, as a [`Stream`] of models.
//! The chunking ([`chakra_dsl::chunks::Chunks`]) is the one the Python door's
//! `QuerySet.iterator` uses: keyset by primary key when the query has no other ordering,
//! `LIMIT`/`OFFSET` with the key as tie-breaker otherwise.

use super::Query;
use crate::exec::Executor;
use crate::model::Model;
use chakra_dsl::chunks::Chunks;
use chakra_dsl::Result;
use futures_util::stream::{self, Stream, TryStreamExt};

impl<M: Model> Query<M> {
    /// The matching rows as a stream, read `chunk_size` rows per statement so at most one
    /// chunk is held in memory: `while let Some(user) = stream.next().await { … }` (with
    /// `futures_util::StreamExt`). Without an ordering (or ordered by the primary key) each
    /// chunk continues after the previous chunk's last key (`WHERE pk > $last ORDER BY pk
    /// LIMIT n`): no server-side cursor, so it works through transaction poolers, and rows
    /// changed meanwhile are never read twice. Any other ordering pages with `LIMIT`/`OFFSET`
    /// (the key appended as a tie-breaker): rows inserted or deleted ahead of the read
    /// position between chunks can then be skipped or read twice; run it in a
    /// `REPEATABLE READ` transaction for one snapshot. The query's own limit and offset are
    /// honoured; `select_related`/`prefetch_related` load per chunk. A `chunk_size` of 0 is
    /// [`chakra_dsl::Error::InvalidQuery`] (the stream's one item).
    pub fn stream<'e, E>(self, exec: E, chunk_size: usize) -> impl Stream<Item = Result<M>> + 'e
    where
        E: Executor + 'e,
        M: 'e,
    {
        let chunks = Chunks::new(self.inner.clone(), chunk_size as u64);
        let state = (exec, chunks, self);
        stream::try_unfold(state, |(exec, chunks, base)| step(exec, chunks, base))
            .map_ok(|rows| stream::iter(rows.into_iter().map(Ok)))
            .try_flatten()
    }
}

/// The state between chunks: the executor, the chunking, the query (for its load spec).
type State<E, M> = (E, Result<Chunks>, Query<M>);

/// Reads one chunk; `None` when the rows are exhausted.
async fn step<M: Model, E: Executor>(
    mut exec: E,
    chunks: Result<Chunks>,
    base: Query<M>,
) -> Result<Option<(Vec<M>, State<E, M>)>> {
    let mut chunks = chunks?;
    let Some(inner) = chunks.next_query() else {
        return Ok(None);
    };
    let q = Query::<M> {
        inner,
        load: base.load.clone(),
        _m: std::marker::PhantomData,
    };
    let rows = q.fetch_models(&mut exec).await?;
    let last = match (chunks.pk_index(), rows.last()) {
        (Some(i), Some(m)) => m.to_values().into_iter().nth(i),
        _ => None,
    };
    chunks.advance(rows.len(), last);
    Ok(Some((rows, (exec, Ok(chunks), base))))
}
