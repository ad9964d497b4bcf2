//! Reading an existing database into a [`Catalog`]: the columns as drift checks read them
//! ([`crate::migrate::introspect::introspect`]: types in the words drift compares,
//! nullability, defaults), then what the dialect's room adds (`read_catalog`).

use super::catalog::{Catalog, CatalogColumn, CatalogTable};
use crate::exec::Conn;
use chakra_dsl::Result;

/// The catalog of the database `conn` is connected to (Chakra's history tables left out).
pub async fn read_catalog(conn: &mut Conn) -> Result<Catalog> {
    let db = crate::migrate::introspect::introspect(conn).await?;
    let mut cat = Catalog::default();
    for (name, t) in db {
        let defaults = t.defaults.unwrap_or_default();
        let unreadable = t
            .triggers
            .unwrap_or_default()
            .into_iter()
            .map(|tr| {
                format!(
                    "the trigger {tr} is not part of the format: write its SQL in a RunSQL with \
                     creates = [\"trigger {tr}\"]"
                )
            })
            .collect();
        let columns = t
            .columns
            .into_iter()
            .map(|c| CatalogColumn {
                default: defaults.get(&c.name).cloned(),
                field_type: Err("not read".into()),
                name: c.name,
                ty: c.ty,
                nullable: c.nullable,
                auto_increment: false,
            })
            .collect();
        cat.tables.insert(
            name,
            CatalogTable {
                columns,
                unreadable,
                ..Default::default()
            },
        );
    }
    crate::dialect::migrate::read_catalog(conn, &mut cat).await?;
    Ok(cat)
}
