//! A TCP proxy between one server under test and PostgreSQL that the test can cut (every open
//! connection closed, new ones closed on arrival) and restore: a database restart as that
//! server sees it, without touching the PostgreSQL cluster other tests share.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub struct PgProxy {
    pub port: u16,
    shared: Arc<Shared>,
    accept: AbortHandle,
}

#[derive(Default)]
struct Shared {
    down: AtomicBool,
    open: Mutex<Vec<AbortHandle>>,
    /// Connections made through the proxy.
    accepted: AtomicU64,
    /// Connections closed on arrival while cut.
    refused: AtomicU64,
}

/// `(rest before host, host:port, rest after)` of a `postgres://user@host:port/db` URL.
fn split_authority(url: &str) -> (&str, &str, &str) {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let path_start = url[scheme_end..].find('/').map_or(url.len(), |i| i + scheme_end);
    let host_start = url[scheme_end..path_start].rfind('@').map_or(scheme_end, |i| i + scheme_end + 1);
    (&url[..host_start], &url[host_start..path_start], &url[path_start..])
}

impl PgProxy {
    /// Listens on a free loopback port and forwards to the host and port of `database_url`.
    pub async fn start(database_url: &str) -> PgProxy {
        let (_, host_port, _) = split_authority(database_url);
        let upstream = if host_port.contains(':') { host_port.to_string() } else { format!("{host_port}:5432") };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy listens");
        let port = listener.local_addr().expect("addr").port();
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { continue };
                if s.down.load(Ordering::SeqCst) {
                    s.refused.fetch_add(1, Ordering::Relaxed);
                    drop(client);
                    continue;
                }
                s.accepted.fetch_add(1, Ordering::Relaxed);
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    let mut client = client;
                    let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
                let mut open = s.open.lock().expect("lock");
                open.retain(|t| !t.is_finished());
                open.push(task.abort_handle());
            }
        })
        .abort_handle();
        PgProxy { port, shared, accept }
    }

    /// `database_url` with its host and port replaced by the proxy's.
    pub fn url(&self, database_url: &str) -> String {
        let (before, _, after) = split_authority(database_url);
        format!("{before}127.0.0.1:{}{after}", self.port)
    }

    /// The database "goes down": open connections are closed, new ones closed on arrival.
    pub fn cut(&self) {
        self.shared.down.store(true, Ordering::SeqCst);
        for task in self.shared.open.lock().expect("lock").drain(..) {
            task.abort();
        }
    }

    /// The database is back.
    pub fn restore(&self) {
        self.shared.down.store(false, Ordering::SeqCst);
    }

    /// Connections refused while cut.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::Relaxed)
    }

    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_the_authority_only() {
        assert_eq!(split_authority("postgres://postgres@127.0.0.1:5432/db"), ("postgres://postgres@", "127.0.0.1:5432", "/db"));
        assert_eq!(split_authority("postgres://u:p@host/db?x=1"), ("postgres://u:p@", "host", "/db?x=1"));
        assert_eq!(split_authority("postgresql://localhost:5433/db"), ("postgresql://", "localhost:5433", "/db"));
    }
}
