//! A bollard client over a connector of rcompose's own (ssh, unverified TLS): every request goes
//! through one pooled hyper client built on it.

use std::sync::Arc;

use bollard::{BollardRequest, ClientVersion, Docker};
use hyper_util::client::legacy::connect::Connect;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A client whose requests go to `addr` (its scheme names what the connector is given) through
/// `connector`.
pub(super) fn over<C>(
    connector: C,
    addr: String,
    timeout: u64,
    version: &ClientVersion,
) -> Result<Docker, bollard::errors::Error>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let client = Arc::new(Client::builder(TokioExecutor::new()).build(connector));
    Docker::connect_with_custom_transport(
        move |req: BollardRequest| {
            let client = client.clone();
            async move { Ok(client.request(req).await?) }
        },
        Some(addr),
        timeout,
        version,
    )
}
