//! Reading a parsed TOML document key by key with spans: each check fails with the file, the
//! line and a sentence (unknown keys, wrong types, missing keys).

use super::error::{MResult, MigrationError};
use super::operations::DialectSql;
use chakra_dsl::OnDelete;
use std::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

type Table<'i> = DeTable<'i>;
type Val<'i> = Spanned<DeValue<'i>>;

/// The file being read: its name and text, for messages with line numbers.
pub struct Ctx<'s> {
    /// The file name shown in messages.
    pub file: &'s str,
    /// The text (without BOM), which spans index.
    pub src: &'s str,
}

impl Ctx<'_> {
    pub(crate) fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.src.len());
        self.src.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    pub(crate) fn err(&self, span: Range<usize>, message: &str) -> MigrationError {
        MigrationError::at(self.file, Some(self.line(span.start)), message)
    }

    pub(crate) fn array<'v, 'i>(&self, v: &'v Val<'i>, what: &str) -> MResult<&'v [Val<'i>]> {
        match v.get_ref() {
            DeValue::Array(a) => Ok(a),
            other => Err(self.err(
                v.span(),
                &format!("{what} must be an array, not {}", other.type_str()),
            )),
        }
    }

    pub(crate) fn as_table<'v, 'i>(&self, v: &'v Val<'i>, what: &str) -> MResult<&'v Table<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Ok(t),
            other => Err(self.err(
                v.span(),
                &format!("{what} must be a table, not {}", other.type_str()),
            )),
        }
    }

    pub(crate) fn str_list(&self, v: &Val<'_>, what: &str) -> MResult<Vec<String>> {
        self.array(v, what)?
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::String(s) => Ok(s.to_string()),
                other => Err(self.err(
                    item.span(),
                    &format!("{what} holds strings, not {}", other.type_str()),
                )),
            })
            .collect()
    }
}

/// A table being read, with what it is called in messages.
pub struct Obj<'c, 't, 'i> {
    /// The file.
    pub ctx: &'c Ctx<'c>,
    t: &'t Table<'i>,
    /// Where the table is.
    pub span: Range<usize>,
    what: String,
}

impl<'c, 't, 'i> Obj<'c, 't, 'i> {
    pub(crate) fn new(
        ctx: &'c Ctx<'c>,
        t: &'t Table<'i>,
        span: Range<usize>,
        what: String,
    ) -> Self {
        Obj { ctx, t, span, what }
    }

    pub(crate) fn renamed(&self, what: String) -> Self {
        Obj::new(self.ctx, self.t, self.span.clone(), what)
    }

    pub(crate) fn err_here(&self, message: &str) -> MigrationError {
        self.ctx
            .err(self.span.clone(), &format!("{}: {message}", self.what))
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'t Val<'i>> {
        self.t.get(key)
    }

    pub(crate) fn only(&self, allowed: &[&str]) -> MResult<()> {
        for (k, _) in self.t.iter() {
            if !allowed.contains(&k.get_ref().as_ref()) {
                return Err(self.ctx.err(
                    k.span(),
                    &format!(
                        "unknown key {:?} in {}; expected one of: {}",
                        k.get_ref(),
                        self.what,
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn str(&self, key: &str) -> MResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Ok(Some(s.to_string())),
                other => Err(self.ctx.err(
                    v.span(),
                    &format!(
                        "{key} in {} must be a string, not {}",
                        self.what,
                        other.type_str()
                    ),
                )),
            },
        }
    }

    pub(crate) fn req_str(&self, key: &str) -> MResult<String> {
        self.str(key)?
            .ok_or_else(|| self.err_here(&format!("missing key {key:?}")))
    }

    pub(crate) fn bool(&self, key: &str) -> MResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::Boolean(b) => Ok(Some(*b)),
                other => Err(self.ctx.err(
                    v.span(),
                    &format!(
                        "{key} in {} must be true or false, not {}",
                        self.what,
                        other.type_str()
                    ),
                )),
            },
        }
    }

    pub(crate) fn u32(&self, key: &str) -> MResult<Option<u32>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::Integer(i) => u32::from_str_radix(i.as_str(), i.radix())
                    .map(Some)
                    .map_err(|_| {
                        self.ctx
                            .err(v.span(), &format!("{key} must be a non-negative integer"))
                    }),
                other => Err(self.ctx.err(
                    v.span(),
                    &format!(
                        "{key} in {} must be an integer, not {}",
                        self.what,
                        other.type_str()
                    ),
                )),
            },
        }
    }

    pub(crate) fn req_columns(&self, key: &str) -> MResult<Vec<String>> {
        let v = self
            .get(key)
            .ok_or_else(|| self.err_here(&format!("missing key {key:?}")))?;
        let cols = self.ctx.str_list(v, key)?;
        if cols.is_empty() {
            return Err(self.ctx.err(v.span(), &format!("{key} must not be empty")));
        }
        Ok(cols)
    }

    pub(crate) fn table(&self, key: &str) -> MResult<Option<Obj<'c, 't, 'i>>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => {
                let t = self.ctx.as_table(v, key)?;
                Ok(Some(Obj::new(
                    self.ctx,
                    t,
                    v.span(),
                    format!("{key} of {}", self.what),
                )))
            }
        }
    }

    pub(crate) fn tables(&self, key: &str) -> MResult<Vec<Obj<'c, 't, 'i>>> {
        let Some(v) = self.get(key) else {
            return Ok(Vec::new());
        };
        self.ctx
            .array(v, key)?
            .iter()
            .map(|item| {
                let t = self.ctx.as_table(item, key)?;
                Ok(Obj::new(
                    self.ctx,
                    t,
                    item.span(),
                    format!("{key} of {}", self.what),
                ))
            })
            .collect()
    }

    pub(crate) fn on_delete(&self) -> MResult<OnDelete> {
        match self.str("on_delete")? {
            None => Ok(OnDelete::default()),
            Some(s) => OnDelete::parse(&s).ok_or_else(|| {
                let span = self.get("on_delete").map(|v| v.span()).unwrap_or_default();
                self.ctx.err(
                    span,
                    &format!(
                        "unknown on_delete {s:?}; expected CASCADE, SET NULL, RESTRICT or NO ACTION"
                    ),
                )
            }),
        }
    }

    pub(crate) fn dialect_sql(&self, key: &str) -> MResult<Option<DialectSql>> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        match v.get_ref() {
            DeValue::String(s) => Ok(Some(DialectSql::All(s.to_string()))),
            DeValue::Table(t) => {
                let o = Obj::new(self.ctx, t, v.span(), format!("{key} of {}", self.what));
                o.only(&["postgres", "sqlite", "mysql"])?;
                Ok(Some(DialectSql::PerDialect {
                    postgres: o.str("postgres")?,
                    sqlite: o.str("sqlite")?,
                    mysql: o.str("mysql")?,
                }))
            }
            other => Err(self.ctx.err(
                v.span(),
                &format!(
                    "{key} must be a string or a table {{ postgres = …, sqlite = …, mysql = … }}, not {}",
                    other.type_str()
                ),
            )),
        }
    }
}
