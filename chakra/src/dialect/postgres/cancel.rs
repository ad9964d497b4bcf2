//! Cancel requests that reach the server through a pooler too.
//!
//! tokio-postgres's `CancelToken::cancel_query` writes the request and half-closes the
//! socket at once. PostgreSQL acts on it anyway; PgBouncer (1.18, Debian 12's) reads the
//! close as the canceller giving up and drops the request, so a statement abandoned behind
//! the pooler would run on. [`send_cancel`] sends the same request over a socket it keeps
//! open until the other side closes it (as libpq does), which both honour.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio_postgres::config::Host;
use tokio_postgres::CancelToken;

/// Where a pool's cancel requests go: the first host and port of its URL (the server, or
/// the pooler in front of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelTarget {
    /// A TCP host and port.
    Tcp(String, u16),
    /// A Unix-domain socket directory and port (`<dir>/.s.PGSQL.<port>`).
    Unix(std::path::PathBuf, u16),
}

impl CancelTarget {
    /// The target of a PostgreSQL URL, when it names a host.
    pub fn from_url(url: &str) -> Option<CancelTarget> {
        let cfg: tokio_postgres::Config = url.parse().ok()?;
        let port = cfg.get_ports().first().copied().unwrap_or(5432);
        Some(match cfg.get_hosts().first()? {
            Host::Tcp(h) => CancelTarget::Tcp(h.clone(), port),
            Host::Unix(dir) => CancelTarget::Unix(dir.clone(), port),
        })
    }
}

/// A stream whose shutdown does nothing: the cancel request is written, and the socket
/// stays open for [`send_cancel`] to wait on.
struct KeepOpen<'a, S>(&'a mut S);

impl<S: AsyncRead + Unpin> AsyncRead for KeepOpen<'_, S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for KeepOpen<'_, S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// How long [`send_cancel`] waits for the other side to act on the request.
const CANCEL_WAIT: Duration = Duration::from_secs(5);

async fn send_over<S: AsyncRead + AsyncWrite + Unpin>(token: &CancelToken, mut stream: S) {
    if token
        .cancel_query_raw(KeepOpen(&mut stream), tokio_postgres::NoTls)
        .await
        .is_err()
    {
        return;
    }
    // The server (or pooler) closes the socket once it has acted on the request.
    let mut buf = [0u8; 64];
    let _ = tokio::time::timeout(CANCEL_WAIT, async {
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// Sends a cancel request for the statement running on `token`'s connection to `target`,
/// and returns once it has been acted on (or after a few seconds). Falls back to
/// tokio-postgres's own sender when there is no target or it cannot be reached.
pub async fn send_cancel(token: CancelToken, target: Option<&CancelTarget>) {
    match target {
        Some(CancelTarget::Tcp(host, port)) => {
            match tokio::net::TcpStream::connect((host.as_str(), *port)).await {
                Ok(s) => send_over(&token, s).await,
                Err(_) => {
                    let _ = token.cancel_query(tokio_postgres::NoTls).await;
                }
            }
        }
        #[cfg(unix)]
        Some(CancelTarget::Unix(dir, port)) => {
            let path = dir.join(format!(".s.PGSQL.{port}"));
            match tokio::net::UnixStream::connect(path).await {
                Ok(s) => send_over(&token, s).await,
                Err(_) => {
                    let _ = token.cancel_query(tokio_postgres::NoTls).await;
                }
            }
        }
        _ => {
            let _ = token.cancel_query(tokio_postgres::NoTls).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_come_from_the_url() {
        assert_eq!(
            CancelTarget::from_url("postgres://u@db.example:6432/app?sslmode=disable"),
            Some(CancelTarget::Tcp("db.example".into(), 6432))
        );
        assert_eq!(
            CancelTarget::from_url("postgres://u@localhost/app"),
            Some(CancelTarget::Tcp("localhost".into(), 5432))
        );
        assert_eq!(
            CancelTarget::from_url("host=/run/postgresql port=5433 dbname=app"),
            Some(CancelTarget::Unix("/run/postgresql".into(), 5433))
        );
    }
}
