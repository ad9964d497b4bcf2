//! Connections through a transaction pooler (PgBouncer in `pool_mode = transaction`).
//!
//! diesel-async runs every statement as a named prepared statement (`Parse` … `Sync`, then
//! `Bind`/`Execute` … `Sync`) and has no unnamed or unprepared mode. A transaction pooler
//! hands the client to another server session after each `Sync` that leaves no transaction
//! open, so the two halves may reach different sessions ("prepared statement "s3" does not
//! exist"). PgBouncer learned to track prepared statements in 1.21; Debian 12 ships 1.18.
//! Chakra therefore keeps every statement inside a transaction when the pool says
//! [`crate::Pooler::Transaction`] (see [`crate::Pool`]), with the statement cache off so each
//! statement is closed before the transaction ends — and connects as below, because even
//! diesel-async's own connection setup (`SET TIME ZONE`, `SET CLIENT_ENCODING`, run as
//! prepared statements) would otherwise race.

use diesel::connection::CacheSize;
use diesel::ConnectionError;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// Opens a connection behind a transaction pooler: the driver connects, `BEGIN` pins one
/// server session, diesel-async's setup statements run in it, the statement cache is turned
/// off (closing them), and `COMMIT` releases the session. The session settings diesel-async
/// makes (time zone UTC, UTF-8) are tracked by PgBouncer and replayed on whichever server
/// session runs the client's next transaction.
pub async fn establish(url: &str) -> Result<AsyncPgConnection, ConnectionError> {
    let bad = |e: tokio_postgres::Error| ConnectionError::BadConnection(e.to_string());
    let (client, mut connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(bad)?;
    {
        // The driver's connection must be polled for `BEGIN` to be sent and answered; it
        // is handed to diesel-async afterwards, so poll it here by reference.
        let begin = client.batch_execute("BEGIN");
        let mut begin = std::pin::pin!(begin);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(r) = begin.as_mut().poll(cx) {
                return Poll::Ready(r.map_err(bad));
            }
            match Pin::new(&mut connection).poll(cx) {
                Poll::Ready(Err(e)) => Poll::Ready(Err(bad(e))),
                Poll::Ready(Ok(())) => Poll::Ready(Err(ConnectionError::BadConnection(
                    "the connection closed during setup".into(),
                ))),
                Poll::Pending => Poll::Pending,
            }
        })
        .await?;
    }
    let mut conn = AsyncPgConnection::try_from_client_and_connection(client, connection).await?;
    conn.set_prepared_statement_cache_size(CacheSize::Disabled);
    conn.batch_execute("COMMIT")
        .await
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}
