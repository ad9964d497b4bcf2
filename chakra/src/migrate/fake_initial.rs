//! `apply --fake-initial`: pending migrations whose tables, columns, indexes and
//! constraints the database already has are recorded as applied without running them, once
//! the whole database matches the history they complete (the comparisons `check` makes);
//! a mismatch refuses, listing every difference. Later migrations then apply normally.

use crate::migrate::definitions::TableDefinitions;
use crate::migrate::drift::DbSchema;
use crate::migrate::history;
use crate::migrate::operations::{ConstraintKind, Migration, Operation, RawObject};
use crate::migrate::Migrator;
use chakra_dsl::{Error, Result};

/// How much of a migration the database already has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// Everything it creates is there.
    Present,
    /// Nothing it creates is there (or it creates nothing that can be looked for).
    Absent,
    /// Some of it: what is there, and what is not.
    Partly {
        /// Present objects.
        present: Vec<String>,
        /// Missing objects, or operations that are not creations.
        missing: Vec<String>,
    },
}

/// What of migration `m` the database (`db`, with index and CHECK definitions `defs`)
/// already has. Pure.
pub fn presence(m: &Migration, db: &DbSchema, defs: &TableDefinitions) -> Presence {
    let mut present = Vec::new();
    let mut missing = Vec::new();
    let index_there = |t: &str, n: &str| {
        defs.get(t).is_some_and(|d| d.indexes.contains_key(n))
            || db.get(t).is_some_and(|x| x.indexes.contains(n))
    };
    for op in &m.operations {
        let found = match op {
            Operation::CreateModel { table, .. } => Some(db.contains_key(table)),
            Operation::AddField { table, field } => Some(
                db.get(table)
                    .is_some_and(|t| t.columns.iter().any(|c| c.name == field.column)),
            ),
            Operation::AddIndex { table, index } => Some(index_there(table, &index.name)),
            Operation::AddConstraint { table, constraint } => {
                let t = db.get(table);
                Some(match &constraint.kind {
                    ConstraintKind::Unique { columns } => t
                        .and_then(|t| t.uniques.as_ref())
                        .is_some_and(|u| u.contains(&columns.join(","))),
                    ConstraintKind::ForeignKey { columns, .. } => t
                        .and_then(|t| t.foreign_keys.as_ref())
                        .is_some_and(|f| f.iter().any(|k| k.0 == columns.join(","))),
                    ConstraintKind::Check { .. } | ConstraintKind::CheckLookup { .. } => defs
                        .get(table)
                        .is_some_and(|d| d.checks.contains_key(&constraint.name)),
                })
            }
            Operation::RunSql { creates, .. } if !creates.is_empty() => {
                Some(creates.iter().all(|o| {
                    match o {
                        RawObject::Index(n) => db.keys().any(|t| index_there(t, n)),
                        RawObject::Trigger(n) => db
                            .values()
                            .any(|t| t.triggers.iter().flatten().any(|x| x == n)),
                    }
                }))
            }
            Operation::RunSql { .. } => None,
            other => {
                missing.push(format!("{} (not a creation)", other.describe()));
                None
            }
        };
        match found {
            Some(true) => present.push(op.describe()),
            Some(false) => missing.push(op.describe()),
            None => {}
        }
    }
    match (present.is_empty(), missing.is_empty()) {
        (false, true) => Presence::Present,
        (true, _) => Presence::Absent,
        (false, false) => Presence::Partly { present, missing },
    }
}

impl Migrator {
    /// Records as applied, without running them, the pending migrations (up to `to`) the
    /// database already has ([`presence`]), after checking that the database matches the
    /// history they complete; returns their keys (`app/id`). Refused by name when a
    /// migration is there in part, or when anything differs.
    pub async fn fake_initial(&self, to: Option<&str>) -> Result<Vec<String>> {
        // Creates (or upgrades) the history table under the lock; runs nothing.
        self.locked(|_, _, _| Ok(Vec::new())).await?;
        let mut conn = self.session_conn().await?;
        crate::dialect::migrate::lock(&mut conn, self.lock_timeout, &*self.notify).await?;
        let result = async {
            let d = conn.dialect();
            let h = self.usable(history::read_history(&mut conn).await?);
            let steps = crate::migrate::plan::plan_apply(&self.graph, &h, to, d)?;
            let db = crate::migrate::introspect::introspect(&mut conn).await?;
            let defs = crate::migrate::introspect::read_definitions(&mut conn).await?;
            let mut faked: Vec<&crate::migrate::plan::Step> = Vec::new();
            for s in &steps {
                let Some(m) = self
                    .graph
                    .ordered
                    .iter()
                    .find(|m| m.migration.key() == s.key)
                else {
                    continue;
                };
                match presence(&m.migration, &db, &defs) {
                    Presence::Absent => {}
                    Presence::Present => {
                        let unmet: Vec<String> = m
                            .migration
                            .dependencies
                            .iter()
                            .filter(|dep| {
                                !h.iter().any(|r| r.app == dep.app && r.id == dep.id)
                                    && !faked.iter().any(|f| f.key == **dep)
                            })
                            .map(|dep| format!("{}/{}", dep.app, dep.id))
                            .collect();
                        if !unmet.is_empty() {
                            return Err(Error::Migration(format!(
                                "--fake-initial: {}/{} is already in the database, but it \
                                 depends on {}, which is not: apply those first",
                                s.key.app,
                                s.key.id,
                                unmet.join(", ")
                            )));
                        }
                        faked.push(s);
                    }
                    Presence::Partly { present, missing } => {
                        return Err(Error::Migration(format!(
                            "--fake-initial: {}/{} is only partly in the database (there: {}; \
                             not there: {}); nothing was recorded",
                            s.key.app,
                            s.key.id,
                            present.join(", "),
                            missing.join(", ")
                        )))
                    }
                }
            }
            if faked.is_empty() {
                return Ok(Vec::new());
            }
            let applied: Vec<&Migration> = self
                .graph
                .ordered
                .iter()
                .filter(|m| {
                    h.iter()
                        .any(|r| r.app == m.migration.app && r.id == m.migration.id)
                        || faked.iter().any(|f| f.key == m.migration.key())
                })
                .map(|m| &m.migration)
                .collect();
            let state = crate::migrate::State::replay(applied)?;
            let mut differs = crate::migrate::drift::compare(&state, &db, d);
            if let Some(types) = crate::dialect::migrate::read_enum_types(&mut conn).await? {
                differs.extend(crate::migrate::drift::compare_enum_types(&state, &types));
            }
            let want = crate::migrate::introspect::declared_definitions(&mut conn, &state).await?;
            differs.extend(crate::migrate::definitions::compare(&want, &defs));
            if !differs.is_empty() {
                return Err(Error::Migration(format!(
                    "--fake-initial: the database does not match {}; nothing was recorded:\n  {}",
                    faked
                        .iter()
                        .map(|s| format!("{}/{}", s.key.app, s.key.id))
                        .collect::<Vec<_>>()
                        .join(", "),
                    differs.join("\n  ")
                )));
            }
            conn.batch_execute(crate::migrate::plan::begin_sql(d))
                .await?;
            let recorded = async {
                for s in &faked {
                    history::insert_history(&mut conn, &s.key.app, &s.key.id, &s.checksum).await?;
                }
                conn.batch_execute("COMMIT").await
            }
            .await;
            if let Err(e) = recorded {
                let _ = conn.batch_execute("ROLLBACK").await;
                return Err(e);
            }
            let mut out = Vec::new();
            for s in faked {
                (self.notify)(&format!(
                    "recorded {}/{} as applied (already in the database)",
                    s.key.app, s.key.id
                ));
                out.push(format!("{}/{}", s.key.app, s.key.id));
            }
            Ok(out)
        }
        .await;
        if let Err(e) = crate::dialect::migrate::unlock(&mut conn).await {
            tracing::warn!(target: "chakra::migrate", "releasing the migration lock: {e}");
            conn.discard();
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::drift::{DbColumn, DbTable};
    use crate::migrate::format::parse_migration;

    fn db(tables: &[(&str, &[&str])]) -> DbSchema {
        tables
            .iter()
            .map(|(t, cols)| {
                (
                    (*t).to_owned(),
                    DbTable {
                        columns: cols
                            .iter()
                            .map(|c| DbColumn {
                                name: (*c).into(),
                                ty: "integer".into(),
                                nullable: false,
                            })
                            .collect(),
                        ..Default::default()
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_migration_is_there_whole_in_part_or_not_at_all() {
        let m = parse_migration(
            "[migration]\nid = \"0001_initial\"\napp = \"a\"\n\n[[operations]]\ntype = \"CreateModel\"\nname = \"T\"\ntable = \"t\"\n\n[[operations.fields]]\nname = \"id\"\ntype = \"Integer\"\nprimary_key = true\n\n[[operations]]\ntype = \"AddField\"\ntable = \"t\"\n\n[operations.field]\nname = \"n\"\ntype = \"Integer\"\nnullable = true\n",
            "x",
        )
        .unwrap();
        let defs = TableDefinitions::new();
        assert_eq!(
            presence(&m, &db(&[("t", &["id", "n"])]), &defs),
            Presence::Present
        );
        assert_eq!(presence(&m, &db(&[]), &defs), Presence::Absent);
        assert_eq!(
            presence(&m, &db(&[("t", &["id"])]), &defs),
            Presence::Partly {
                present: vec!["CreateModel t".into()],
                missing: vec!["AddField t.n".into()],
            }
        );
    }
}
