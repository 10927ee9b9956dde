//! A TCP forwarder the tests put between a client and a server to drop the connections on
//! demand: what a flaky network, a proxy's idle timeout or a sleeping laptop does to a browser's
//! event stream. Bytes pass through unchanged (the server sees the forwarder's Host, which the
//! client also sends as its Origin), so the server cannot tell it is there.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

/// Forwards `127.0.0.1:<port>` to an upstream address until dropped.
pub struct CuttableLink {
    address: SocketAddr,
    refusing: Arc<AtomicBool>,
    connections: Arc<Mutex<JoinSet<()>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl CuttableLink {
    /// Starts forwarding a free loopback port to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = upstream
            .parse()
            .unwrap_or_else(|e| panic!("{upstream} is not host:port: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the forwarder");
        let address = listener.local_addr().expect("the forwarder's address");
        let refusing = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let accept = tokio::spawn({
            let refusing = refusing.clone();
            let connections = connections.clone();
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if refusing.load(Ordering::SeqCst) {
                        // Accepted and closed at once: the client sees the server go away.
                        drop(client);
                        continue;
                    }
                    connections.lock().await.spawn(async move {
                        let Ok(mut server) = TcpStream::connect(upstream).await else {
                            return;
                        };
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    });
                }
            }
        });
        Self {
            address,
            refusing,
            connections,
            accept,
        }
    }

    /// The URL of the forwarder (`http://127.0.0.1:<port>/`).
    pub fn url(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// Drops every open connection and closes new ones at once, until [`Self::restore`].
    pub async fn cut(&self) {
        self.refusing.store(true, Ordering::SeqCst);
        self.connections.lock().await.abort_all();
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.refusing.store(false, Ordering::SeqCst);
    }
}

impl Drop for CuttableLink {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
