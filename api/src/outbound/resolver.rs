//! The resolver of the guarded client: the system's resolution, minus the addresses the
//! [`AllowList`] does not let through. Connections are made only to what it returns.
use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::{AllowList, Failure};

pub(super) struct GuardedResolver {
    allow: Arc<AllowList>,
}

impl GuardedResolver {
    pub(super) fn new(allow: Arc<AllowList>) -> Self {
        GuardedResolver { allow }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), 0)).await {
                Ok(addrs) => addrs.collect(),
                Err(_) => return Err(Box::new(Failure::NotResolved) as _),
            };
            match allow.permitted(&host, found) {
                Ok(kept) if kept.is_empty() => Err(Box::new(Failure::NotResolved) as _),
                Ok(kept) => Ok(Box::new(kept.into_iter()) as Addrs),
                Err(refusal) => {
                    tracing::debug!(kind = refusal.kind, "outbound request to a name resolving to a refused address");
                    Err(Box::new(Failure::Refused) as _)
                }
            }
        })
    }
}
