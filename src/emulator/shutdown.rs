//! The emulator's shutdown signal, one level below the server and its tasks: the server
//! sends it, the listener, handshakes, connections and push sources wait on it, and none
//! of them needs to import the server for that.

use tokio::sync::watch;

/// Resolves once shutdown is signalled (or its sender is gone). Holds no guard across awaits.
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
