//! The dependency graph of migrations: order, leaves, and what `--to` means.

use super::error::{MResult, MigrationError};
use super::loader::LoadedMigration;
use super::operations::Dependency;
use std::collections::{BTreeMap, BTreeSet};

/// Migrations with their dependencies checked, in an order that applies.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Every migration, in application order (dependencies first; ties by id, then app).
    pub ordered: Vec<LoadedMigration>,
}

fn key_text(k: &Dependency) -> String {
    format!("{}/{}", k.app, k.id)
}

impl Graph {
    /// Checks dependencies (they exist, no cycle, one leaf per app) and orders the migrations.
    pub fn new(migrations: Vec<LoadedMigration>) -> MResult<Graph> {
        let mut by_key: BTreeMap<Dependency, LoadedMigration> = BTreeMap::new();
        for m in migrations {
            let k = m.migration.key();
            if let Some(prev) = by_key.get(&k) {
                return Err(MigrationError::new(format!(
                    "two migrations are {}: {} and {}",
                    key_text(&k),
                    prev.path.display(),
                    m.path.display()
                )));
            }
            by_key.insert(k, m);
        }
        for m in by_key.values() {
            for d in &m.migration.dependencies {
                if !by_key.contains_key(d) {
                    return Err(MigrationError::at(
                        m.path.display().to_string(),
                        None,
                        format!("depends on {}, which does not exist", key_text(d)),
                    ));
                }
            }
        }
        check_leaves(&by_key)?;
        let mut remaining: BTreeMap<Dependency, BTreeSet<Dependency>> = by_key
            .iter()
            .map(|(k, m)| {
                (
                    k.clone(),
                    m.migration.dependencies.iter().cloned().collect(),
                )
            })
            .collect();
        let mut ordered = Vec::with_capacity(by_key.len());
        while !remaining.is_empty() {
            let ready = remaining
                .iter()
                .filter(|(_, deps)| deps.is_empty())
                .map(|(k, _)| k.clone())
                .min_by(|a, b| (&a.id, &a.app).cmp(&(&b.id, &b.app)));
            let Some(k) = ready else {
                let names: Vec<String> = remaining.keys().map(key_text).collect();
                return Err(MigrationError::new(format!(
                    "the dependencies of these migrations form a cycle: {}",
                    names.join(", ")
                )));
            };
            remaining.remove(&k);
            for deps in remaining.values_mut() {
                deps.remove(&k);
            }
            ordered.push(by_key.remove(&k).expect("known migration"));
        }
        Ok(Graph { ordered })
    }

    /// Finds a migration by `app/id`, or by `id` alone when one app has it.
    pub fn find(&self, target: &str) -> MResult<Dependency> {
        let matches: Vec<Dependency> = self
            .ordered
            .iter()
            .map(|m| m.migration.key())
            .filter(|k| match target.split_once('/') {
                Some((app, id)) => k.app == app && k.id == id,
                None => k.id == target,
            })
            .collect();
        match matches.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(MigrationError::new(format!("no migration {target:?}"))),
            many => Err(MigrationError::new(format!(
                "{target:?} is ambiguous: {}; write app/id",
                many.iter().map(key_text).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// `target` and everything it depends on, transitively.
    pub fn ancestors(&self, target: &Dependency) -> BTreeSet<Dependency> {
        let mut out = BTreeSet::new();
        let mut stack = vec![target.clone()];
        while let Some(k) = stack.pop() {
            if out.insert(k.clone()) {
                if let Some(m) = self.ordered.iter().find(|m| m.migration.key() == k) {
                    stack.extend(m.migration.dependencies.iter().cloned());
                }
            }
        }
        out
    }

    /// Everything that depends on `target`, transitively (not `target` itself).
    pub fn descendants(&self, target: &Dependency) -> BTreeSet<Dependency> {
        let mut out = BTreeSet::new();
        for m in &self.ordered {
            let k = m.migration.key();
            if m.migration
                .dependencies
                .iter()
                .any(|d| d == target || out.contains(d))
            {
                out.insert(k);
            }
        }
        out
    }
}

/// The leaf migrations of each app: those no migration of the same app depends on.
pub fn leaves(migrations: &[LoadedMigration]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in migrations {
        let k = m.migration.key();
        let depended_on = migrations
            .iter()
            .any(|o| o.migration.app == k.app && o.migration.dependencies.contains(&k));
        if !depended_on {
            out.entry(k.app.clone()).or_default().push(k.id.clone());
        }
    }
    for ids in out.values_mut() {
        ids.sort();
    }
    out
}

fn check_leaves(by_key: &BTreeMap<Dependency, LoadedMigration>) -> MResult<()> {
    let all: Vec<LoadedMigration> = by_key.values().cloned().collect();
    for (app, ids) in leaves(&all) {
        if ids.len() > 1 {
            return Err(MigrationError::new(format!(
                "app {app:?} has {} leaf migrations ({}): each migration after the first must \
                 depend on the one before it; write a merge migration that depends on all of \
                 them (`chakra migrate make --merge`), or fix the dependencies",
                ids.len(),
                ids.join(", ")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn m(app: &str, id: &str, deps: &[(&str, &str)]) -> LoadedMigration {
        let deps: Vec<String> = deps
            .iter()
            .map(|(a, i)| format!("[\"{a}\", \"{i}\"]"))
            .collect();
        let text = format!(
            "[migration]\nid = \"{id}\"\napp = \"{app}\"\ndependencies = [{}]\n",
            deps.join(", ")
        );
        LoadedMigration::from_text(&text, &Path::new("m").join(app).join(format!("{id}.toml")))
            .unwrap()
    }

    #[test]
    fn orders_dependencies_first() {
        let g = Graph::new(vec![
            m("posts", "0001_initial", &[("users", "0002_email")]),
            m("users", "0002_email", &[("users", "0001_initial")]),
            m("users", "0001_initial", &[]),
        ])
        .unwrap();
        let order: Vec<String> = g
            .ordered
            .iter()
            .map(|x| key_text(&x.migration.key()))
            .collect();
        assert_eq!(
            order,
            [
                "users/0001_initial",
                "users/0002_email",
                "posts/0001_initial"
            ]
        );
        let target = g.find("0002_email").unwrap();
        assert_eq!(g.ancestors(&target).len(), 2);
        assert_eq!(
            g.descendants(&g.find("users/0001_initial").unwrap()).len(),
            2
        );
    }

    #[test]
    fn two_leaves_missing_dependencies_and_cycles() {
        let e = Graph::new(vec![
            m("users", "0001_initial", &[]),
            m("users", "0002_a", &[("users", "0001_initial")]),
            m("users", "0002_b", &[("users", "0001_initial")]),
        ])
        .unwrap_err();
        assert!(
            e.message
                .contains("app \"users\" has 2 leaf migrations (0002_a, 0002_b)"),
            "{}",
            e.message
        );
        let e =
            Graph::new(vec![m("users", "0001_initial", &[("users", "0000_gone")])]).unwrap_err();
        assert!(
            e.to_string()
                .contains("depends on users/0000_gone, which does not exist"),
            "{e}"
        );
        let e = Graph::new(vec![
            m("a", "0001_x", &[("b", "0001_x")]),
            m("b", "0001_x", &[("a", "0001_x")]),
        ])
        .unwrap_err();
        assert!(e.message.contains("cycle"), "{}", e.message);
    }
}
