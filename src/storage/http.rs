//! HTTP clients shared by every bucket the process opens. Building a client loads the system's
//! root certificates, milliseconds of CPU that a small job would otherwise pay twice (source and
//! destination); sharing also keeps connections to an endpoint alive from one job to the next.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use object_store::client::{HttpClient, HttpConnector, ReqwestConnector};
use object_store::ClientOptions;

/// Clients by kind. The other client options come from the process configuration and are the
/// same for every bucket.
static CLIENTS: LazyLock<Mutex<HashMap<Shared, HttpClient>>> = LazyLock::new(Default::default);

/// The kind of client a bucket needs, taken from the process-wide set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shared {
    pub allow_http: bool,
    /// Resolves names to public addresses only (endpoints named by users).
    pub public_only: bool,
}

impl HttpConnector for Shared {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        let mut clients = CLIENTS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get(self) {
            return Ok(client.clone());
        }
        let client = ReqwestConnector::default().connect(options)?;
        clients.insert(*self, client.clone());
        Ok(client)
    }
}
