//! Is a generated model layer stale? Each generated module lists the migrations it was
//! generated from (`SCHEMA_MIGRATIONS`: app, id, checksum, in order); [`check_schema`]
//! compares that list with the database's applied history and names each difference.

use crate::config::SchemaCheck;
use crate::exec::{Conn, Pool};
use crate::migrate::history::read_history;
use std::collections::BTreeMap;

/// A generated model layer linked into the program: what `chakra generate models --lang
/// rust` registers next to its models (`inventory::submit!`), so that
/// [`Pool::connect_with`] can compare it with the database ([`at_connect`]).
#[derive(Debug)]
pub struct ModelLayer {
    /// The generated module's path (`module_path!()`).
    pub module: &'static str,
    /// The hash of the migration state it was generated from (`SCHEMA_FINGERPRINT`).
    pub fingerprint: &'static str,
    /// The migrations (app, id, checksum) it was generated from (`SCHEMA_MIGRATIONS`).
    pub migrations: &'static [(&'static str, &'static str, &'static str)],
    /// Its models' names.
    pub models: &'static [&'static str],
}

inventory::collect!(ModelLayer);

/// A model layer registered while the program runs ([`register_layer`]): a generated
/// Python module registers itself when imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredLayer {
    /// The module's name.
    pub module: String,
    /// The hash of the migration state it was generated from.
    pub fingerprint: String,
    /// The migrations (app, id, checksum) it was generated from.
    pub migrations: Vec<(String, String, String)>,
    /// Its models' names.
    pub models: Vec<String>,
}

static REGISTERED: std::sync::Mutex<Vec<RegisteredLayer>> = std::sync::Mutex::new(Vec::new());

/// Registers a model layer for the check pools connected afterwards run ([`at_connect`]);
/// one registered again under the same module name (a reload) replaces the first.
pub fn register_layer(layer: RegisteredLayer) {
    let mut all = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
    all.retain(|l| l.module != layer.module);
    all.push(layer);
}

/// The linked layers ([`layers`]) and the registered ones, by module name.
pub fn all_layers() -> Vec<RegisteredLayer> {
    let mut out: Vec<RegisteredLayer> = layers()
        .into_iter()
        .map(|l| RegisteredLayer {
            module: l.module.to_owned(),
            fingerprint: l.fingerprint.to_owned(),
            migrations: l
                .migrations
                .iter()
                .map(|(a, i, c)| (a.to_string(), i.to_string(), c.to_string()))
                .collect(),
            models: l.models.iter().map(|m| m.to_string()).collect(),
        })
        .collect();
    out.extend(
        REGISTERED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned(),
    );
    out.sort_by(|a, b| a.module.cmp(&b.module));
    out
}

/// Every generated model layer linked into the program, by module path.
pub fn layers() -> Vec<&'static ModelLayer> {
    let mut out: Vec<&'static ModelLayer> = inventory::iter::<ModelLayer>.into_iter().collect();
    out.sort_by_key(|l| l.module);
    out
}

/// What [`Pool::connect_with`] runs on its first connection: with `mode` not
/// [`SchemaCheck::Off`] and at least one generated layer linked or registered, one read of the applied
/// history, compared with each layer. The first stale layer is
/// [`crate::Error::StaleModels`] (`Error` mode) or a WARN on `chakra::schema` (`Warn`).
pub async fn at_connect(conn: &mut Conn, mode: SchemaCheck, url: &str) -> crate::Result<()> {
    if mode == SchemaCheck::Off {
        return Ok(());
    }
    let layers = all_layers();
    if layers.is_empty() {
        return Ok(());
    }
    let applied: Vec<(String, String, String)> = read_history(conn)
        .await?
        .into_iter()
        .map(|r| (r.app, r.id, r.checksum))
        .collect();
    for layer in layers {
        let generated: Vec<(&str, &str, &str)> = layer
            .migrations
            .iter()
            .map(|(a, i, c)| (a.as_str(), i.as_str(), c.as_str()))
            .collect();
        let differences = differences(&generated, &applied);
        if differences.is_empty() {
            continue;
        }
        let err = crate::Error::StaleModels {
            module: layer.module.clone(),
            models: layer.models.join(", "),
            database: crate::config::redact(url),
            differences,
        };
        match mode {
            SchemaCheck::Error => return Err(err),
            _ => tracing::warn!(target: "chakra::schema", "{err}"),
        }
    }
    Ok(())
}

/// The differences between the migrations a model layer was generated from (`generated`:
/// app, id, checksum) and those the database at `pool` has applied; empty when they agree.
/// Reads only the history table (absent: nothing applied).
pub async fn check_schema(
    pool: &Pool,
    generated: &[(&str, &str, &str)],
) -> crate::Result<Vec<String>> {
    let mut conn = pool.acquire().await?;
    let applied = read_history(&mut conn).await?;
    let applied: Vec<(String, String, String)> = applied
        .into_iter()
        .map(|r| (r.app, r.id, r.checksum))
        .collect();
    Ok(differences(generated, &applied))
}

/// [`check_schema`]'s comparison, on lists.
pub fn differences(
    generated: &[(&str, &str, &str)],
    applied: &[(String, String, String)],
) -> Vec<String> {
    let known: BTreeMap<(&str, &str), &str> =
        generated.iter().map(|(a, i, c)| ((*a, *i), *c)).collect();
    let done: BTreeMap<(&str, &str), &str> = applied
        .iter()
        .map(|(a, i, c)| ((a.as_str(), i.as_str()), c.as_str()))
        .collect();
    let mut out = Vec::new();
    for ((app, id), sum) in &done {
        match known.get(&(*app, *id)) {
            None => out.push(format!(
                "the database has {app}/{id} applied, which the models were not generated from"
            )),
            Some(k) if k != sum => out.push(format!(
                "{app}/{id} was applied with checksum {sum}, but the models were generated from a file with checksum {k}: the file changed after it was applied"
            )),
            Some(_) => {}
        }
    }
    for (app, id) in known.keys() {
        if !done.contains_key(&(*app, *id)) {
            out.push(format!(
                "the models were generated from {app}/{id}, which the database has not applied"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_difference_is_named() {
        let generated = [("users", "0001_initial", "aa"), ("users", "0002_x", "bb")];
        let same: Vec<(String, String, String)> = generated
            .iter()
            .map(|(a, i, c)| (a.to_string(), i.to_string(), c.to_string()))
            .collect();
        assert!(differences(&generated, &same).is_empty());
        let mut more = same.clone();
        more.push(("posts".into(), "0001_initial".into(), "cc".into()));
        let d = differences(&generated, &more);
        assert_eq!(d.len(), 1);
        assert!(
            d[0].contains("posts/0001_initial") && d[0].contains("not generated from"),
            "{d:?}"
        );
        let fewer = &same[..1];
        let d = differences(&generated, fewer);
        assert_eq!(d.len(), 1);
        assert!(
            d[0].contains("users/0002_x") && d[0].contains("not applied"),
            "{d:?}"
        );
        let mut changed = same.clone();
        changed[1].2 = "zz".into();
        let d = differences(&generated, &changed);
        assert!(
            d.len() == 1 && d[0].contains("zz") && d[0].contains("bb"),
            "{d:?}"
        );
    }
}
