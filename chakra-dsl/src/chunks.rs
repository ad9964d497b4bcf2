//! [`Chunks`]: reading a model query's rows a chunk at a time (streaming), shared by both
//! front doors (Rust `Query::stream`, Python `QuerySet.iterator`). No state lives on the
//! server between chunks, so it works through transaction poolers.
//!
//! - **Keyset** (a query without its own ordering, or ordered by the primary key alone):
//!   each chunk is the query with `pk > last` (`pk < last` descending) ANDed to its filters,
//!   ordered by the primary key, `LIMIT size`. Rows inserted or deleted meanwhile never make
//!   a row appear twice or be skipped, and each chunk costs an index range scan.
//! - **Offset** (any other ordering, or a model without a primary key): the query in its own
//!   order with the primary key appended as a tie-breaker, `LIMIT size OFFSET taken`. Rows
//!   inserted or deleted before the read position between chunks shift the rest: one may be
//!   skipped or read twice, and each chunk re-reads the rows it skips.
//!
//! A query's own `LIMIT`/`OFFSET` is honoured in both modes.

use crate::ir::{CmpOp, Expr, OrderBy};
use crate::model_query::{field_expr, ModelQuery};
use crate::{Error, Result, Value};

/// How [`Chunks`] moves from one chunk to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkMode {
    /// `pk > last ORDER BY pk LIMIT n` (ascending or descending by the primary key).
    Keyset {
        /// Descending by the primary key.
        desc: bool,
    },
    /// `ORDER BY … , pk LIMIT n OFFSET taken`.
    Offset,
}

/// The state of a chunked read.
#[derive(Debug, Clone)]
pub struct Chunks {
    base: ModelQuery,
    size: u64,
    mode: ChunkMode,
    pk: Option<usize>,
    last: Option<Value>,
    taken: u64,
    done: bool,
}

impl Chunks {
    /// A chunked read of `base`, `size` rows per chunk. A size of 0 is
    /// [`Error::InvalidQuery`].
    pub fn new(base: ModelQuery, size: u64) -> Result<Chunks> {
        if size == 0 {
            return Err(Error::InvalidQuery(format!(
                "streaming {} needs a chunk size of at least 1",
                base.meta.name
            )));
        }
        let pk = base
            .meta
            .primary_key()
            .and_then(|p| base.meta.field_index(&p.name));
        let mode = match (pk, base.order_by.as_slice()) {
            // DISTINCT ON keeps the first row of each group in the query's own order.
            _ if !base.distinct_on.is_empty() => ChunkMode::Offset,
            // Joined rows repeat the key: paged by offset in a total order instead.
            _ if !base.path_joins.is_empty() => ChunkMode::Offset,
            (Some(_), []) => ChunkMode::Keyset { desc: false },
            (Some(i), [o]) if o.expr == field_expr(&base.meta, &base.meta.fields[i]) => {
                ChunkMode::Keyset { desc: o.desc }
            }
            _ => ChunkMode::Offset,
        };
        Ok(Chunks {
            base,
            size,
            mode,
            pk,
            last: None,
            taken: 0,
            done: false,
        })
    }

    /// The mode chosen for the query.
    pub fn mode(&self) -> ChunkMode {
        self.mode
    }

    /// The index of the primary key in a selected row (the model's field order), when the
    /// model has one.
    pub fn pk_index(&self) -> Option<usize> {
        self.pk
    }

    /// The query of the next chunk, or `None` when the rows are exhausted.
    pub fn next_query(&self) -> Option<ModelQuery> {
        if self.done {
            return None;
        }
        let remaining = self.base.limit.map(|l| l.saturating_sub(self.taken));
        if remaining == Some(0) {
            return None;
        }
        let limit = remaining.map_or(self.size, |r| r.min(self.size));
        let mut q = self.base.clone();
        q.limit = Some(limit);
        let base_offset = self.base.offset.unwrap_or(0);
        match self.mode {
            ChunkMode::Keyset { desc } => {
                let pk = &q.meta.fields[self.pk.expect("keyset mode has a primary key")];
                let col = field_expr(&q.meta, pk);
                q.order_by = vec![OrderBy {
                    expr: col.clone(),
                    desc,
                }];
                match &self.last {
                    Some(last) => {
                        let op = if desc { CmpOp::Lt } else { CmpOp::Gt };
                        q = q.filter(col.cmp(op, Expr::Value(last.clone())));
                        q.offset = None;
                    }
                    None => q.offset = (base_offset > 0).then_some(base_offset),
                }
            }
            ChunkMode::Offset => {
                if q.order_by.is_empty() {
                    // DISTINCT ON needs an order starting with its expressions.
                    for e in &q.distinct_on {
                        q.order_by.push(OrderBy {
                            expr: e.clone(),
                            desc: false,
                        });
                    }
                }
                // The key, then each joined row's key (`order_by("books__title")` repeats a
                // row per book): a total order, so no row is read twice or skipped.
                // Every key field of a composite key.
                let keys = q
                    .meta
                    .primary_key_fields()
                    .into_iter()
                    .map(|f| field_expr(&q.meta, f))
                    .chain(q.path_joins.iter().flat_map(|j| j.key.iter().cloned()))
                    .collect::<Vec<_>>();
                for col in keys {
                    if !q.order_by.iter().any(|o| o.expr == col) {
                        q.order_by.push(OrderBy {
                            expr: col,
                            desc: false,
                        });
                    }
                }
                let off = base_offset + self.taken;
                q.offset = (off > 0).then_some(off);
            }
        }
        Some(q)
    }

    /// Records a chunk read by [`Chunks::next_query`]: how many rows came back and the last
    /// row's primary key. A chunk shorter than asked for ends the read.
    pub fn advance(&mut self, rows: usize, last_pk: Option<Value>) {
        let asked = self
            .base
            .limit
            .map_or(self.size, |l| l.saturating_sub(self.taken).min(self.size));
        self.taken += rows as u64;
        if (rows as u64) < asked || rows == 0 {
            self.done = true;
        }
        if last_pk.is_some() {
            self.last = last_pk;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{FieldMeta, ModelMeta};
    use crate::FieldType;
    use std::sync::Arc;

    fn meta() -> Arc<ModelMeta> {
        let mut id = FieldMeta::new("id", FieldType::BigInteger);
        id.primary_key = true;
        Arc::new(ModelMeta {
            name: "Item".into(),
            table: "items".into(),
            fields: vec![id, FieldMeta::new("name", FieldType::Text)],
            relations: Vec::new(),
            app: None,
            options: Default::default(),
            ordering: Vec::new(),
        })
    }

    #[test]
    fn keyset_chunks_follow_the_last_key_and_the_limit() {
        let mut q = ModelQuery::new(meta());
        q.limit = Some(5);
        let mut c = Chunks::new(q, 2).unwrap();
        assert_eq!(c.mode(), ChunkMode::Keyset { desc: false });
        let first = c.next_query().unwrap();
        assert_eq!(first.limit, Some(2));
        assert!(first.filter.is_none());
        c.advance(2, Some(Value::I64(7)));
        let second = c.next_query().unwrap();
        assert!(format!("{:?}", second.filter).contains("I64(7)"));
        c.advance(2, Some(Value::I64(9)));
        assert_eq!(c.next_query().unwrap().limit, Some(1));
        c.advance(1, Some(Value::I64(10)));
        assert!(c.next_query().is_none());
        assert!(Chunks::new(ModelQuery::new(meta()), 0).is_err());
    }

    #[test]
    fn other_orderings_use_offsets_with_a_tie_breaker() {
        let m = meta();
        let name = field_expr(&m, &m.fields[1]);
        let q = ModelQuery::new(m).order_by(name, true);
        let mut c = Chunks::new(q, 3).unwrap();
        assert_eq!(c.mode(), ChunkMode::Offset);
        assert_eq!(c.next_query().unwrap().order_by.len(), 2);
        c.advance(3, Some(Value::I64(1)));
        assert_eq!(c.next_query().unwrap().offset, Some(3));
        c.advance(0, None);
        assert!(c.next_query().is_none());
    }
}
