//! Filling `Related<…>` fields from loaded rows ([`crate::load::Loaded`]): each model's
//! generated `fill_relation` hands a relation's rows to its field, which builds the related
//! models (and their own loaded relations) from them. A row linked to one parent is moved
//! into its object; a row shared by several (many-to-many, a prefetched foreign key) is
//! copied.

use crate::load::{Loaded, LoadedRelation};
use crate::model::Model;
use crate::Row;
use chakra_dsl::typed::Related;
use chakra_dsl::{Error, Result};

/// The rows of one loaded relation (or of the queried model), consumed as objects are built.
pub struct RelatedRows {
    model: String,
    rows: Vec<Option<Row>>,
    uses: Vec<u32>,
    relations: Vec<(String, RelatedRows, Vec<Vec<usize>>)>,
}

impl RelatedRows {
    /// Rows of `loaded`, each used `uses[i]` times.
    fn new(loaded: Loaded, uses: Vec<u32>) -> RelatedRows {
        let relations = loaded
            .relations
            .into_iter()
            .map(
                |LoadedRelation {
                     name,
                     target,
                     links,
                     ..
                 }| {
                    // A row is built once per use of its parent row (a shared parent
                    // carries its related rows into each copy).
                    let mut u = vec![0u32; target.rows.len()];
                    for (l, &n) in links.iter().zip(&uses) {
                        for &j in l {
                            u[j] += n;
                        }
                    }
                    (name, RelatedRows::new(target, u), links)
                },
            )
            .collect();
        RelatedRows {
            model: loaded.meta.name.clone(),
            rows: loaded.rows.into_iter().map(Some).collect(),
            uses,
            relations,
        }
    }

    /// The queried rows (each used once).
    pub fn root(loaded: Loaded) -> RelatedRows {
        let n = loaded.rows.len();
        RelatedRows::new(loaded, vec![1; n])
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn take(&mut self, i: usize) -> Result<Row> {
        let gone = || Error::Decode {
            column: self.model.clone(),
            reason: format!("related row {i} was used more often than it is linked"),
        };
        if self.uses[i] > 1 {
            self.uses[i] -= 1;
            return self.rows[i].clone().ok_or_else(gone);
        }
        self.rows[i].take().ok_or_else(gone)
    }

    /// Builds model `i` with its loaded relations.
    pub fn build<M: Model>(&mut self, i: usize) -> Result<M> {
        // A row used again later keeps its links for its next copy.
        let last = self.uses[i] <= 1;
        let mut m = M::from_row(self.take(i)?)?;
        for (name, rows, links) in &mut self.relations {
            let l = if last {
                std::mem::take(&mut links[i])
            } else {
                links[i].clone()
            };
            m.fill_relation(name, rows, &l)?;
        }
        Ok(m)
    }

    /// Fills the loaded relations of row `i` into an existing model `m` (its own columns are
    /// left as they are).
    pub fn fill_into<M: Model>(&mut self, i: usize, m: &mut M) -> Result<()> {
        for (name, rows, links) in &mut self.relations {
            let l = std::mem::take(&mut links[i]);
            m.fill_relation(name, rows, &l)?;
        }
        Ok(())
    }

    /// Builds every row as a model, in order.
    pub fn build_all<M: Model>(&mut self) -> Result<Vec<M>> {
        (0..self.len()).map(|i| self.build(i)).collect()
    }
}

/// A `Related<…>` field that loaded rows can fill.
pub trait RelatedSlot {
    /// Stores the related rows `links` (indexes into `rows`).
    fn fill(&mut self, rows: &mut RelatedRows, links: &[usize]) -> Result<()>;
}

impl<T: Model> RelatedSlot for Related<Vec<T>> {
    fn fill(&mut self, rows: &mut RelatedRows, links: &[usize]) -> Result<()> {
        let mut v = Vec::with_capacity(links.len());
        for &j in links {
            v.push(rows.build(j)?);
        }
        self.set(v);
        Ok(())
    }
}

impl<T: Model> RelatedSlot for Related<Option<T>> {
    fn fill(&mut self, rows: &mut RelatedRows, links: &[usize]) -> Result<()> {
        let v = match links.first() {
            Some(&j) => Some(rows.build(j)?),
            None => None,
        };
        self.set(v);
        Ok(())
    }
}

impl<T: Model> RelatedSlot for Related<T> {
    fn fill(&mut self, rows: &mut RelatedRows, links: &[usize]) -> Result<()> {
        match links.first() {
            Some(&j) => {
                self.set(rows.build(j)?);
                Ok(())
            }
            None => Err(missing_required::<T>()),
        }
    }
}

/// The error for a required relation (`Related<T>`) with no related row.
pub(crate) fn missing_required<T: Model>() -> Error {
    Error::Decode {
        column: T::NAME.to_owned(),
        reason: format!(
            "no related {} row was found for a required relation (declare the field \
             `Related<Option<{}>>` when the key is nullable)",
            T::NAME,
            T::NAME
        ),
    }
}
