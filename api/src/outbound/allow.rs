//! The operator's exceptions (`CALLBROKER_OUTBOUND_ALLOW_HOSTS`): host names, IP addresses and
//! CIDR ranges outbound requests may reach even when private.
use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use super::addresses::forbidden;

/// Why an outbound request was not let through to an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused: {kind} address {ip}")]
pub struct Refusal {
    pub ip: IpAddr,
    pub kind: &'static str,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    /// Lower-case host names, without a trailing dot.
    hosts: Vec<String>,
    nets: Vec<IpNet>,
}

impl AllowList {
    /// Reads the configured entries: `name.example`, `10.0.0.5`, `10.1.0.0/16`, `fd00::/8`.
    pub fn parse(entries: &[String]) -> Result<AllowList, String> {
        let mut list = AllowList::default();
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            if let Ok(net) = entry.parse::<IpNet>() {
                list.nets.push(net.trunc());
            } else if let Ok(ip) = entry.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
                list.nets.push(IpNet::from(ip));
            } else if is_host_name(entry) {
                list.hosts.push(normal_host(entry));
            } else {
                return Err(format!("outbound allow list: {entry:?} is neither a host name, an IP address nor a CIDR range"));
            }
        }
        Ok(list)
    }

    /// Whether `host` (as written in a URL) is allowed whatever it resolves to.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = normal_host(host);
        self.hosts.contains(&host)
    }

    /// Whether `ip` may be reached: a public address, or one in an allowed range.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refusal> {
        let ip = ip.to_canonical();
        match forbidden(ip) {
            Some(kind) if !self.nets.iter().any(|n| n.contains(&ip)) => Err(Refusal { ip, kind }),
            _ => Ok(()),
        }
    }

    /// The addresses `host` resolved to that may be reached; the first refusal when none may.
    pub fn permitted(&self, host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, Refusal> {
        if self.allows_host(host) {
            return Ok(addrs);
        }
        let mut refused = None;
        let kept: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| match self.check(a.ip()) {
                Ok(()) => true,
                Err(r) => {
                    refused.get_or_insert(r);
                    false
                }
            })
            .collect();
        match refused {
            Some(r) if kept.is_empty() => Err(r),
            _ => Ok(kept),
        }
    }
}

fn normal_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

fn is_host_name(s: &str) -> bool {
    let s = s.trim_end_matches('.');
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        AllowList::parse(&entries.iter().map(ToString::to_string).collect::<Vec<_>>()).expect("valid entries")
    }

    fn sock(s: &str) -> SocketAddr {
        SocketAddr::new(s.parse().expect("ip"), 80)
    }

    #[test]
    fn entries_are_names_addresses_or_ranges() {
        let l = list(&[" Tracker.Internal. ", "10.0.0.5", "172.20.1.9/16", "[fd00::1]", "fd12::/16", ""]);
        assert!(l.allows_host("tracker.internal") && l.allows_host("TRACKER.internal."));
        assert!(!l.allows_host("other.internal"));
        assert_eq!(l.check("10.0.0.5".parse().expect("ip")), Ok(()));
        assert!(l.check("10.0.0.6".parse().expect("ip")).is_err());
        assert_eq!(l.check("172.20.200.1".parse().expect("ip")), Ok(()), "the range, from a host address in it");
        assert_eq!(l.check("fd00::1".parse().expect("ip")), Ok(()));
        assert_eq!(l.check("fd12:3::1".parse().expect("ip")), Ok(()));
        assert_eq!(l.check("::ffff:10.0.0.5".parse().expect("ip")), Ok(()), "an IPv4-mapped form of an allowed address");
        for bad in ["10.0.0.0/33", "http://x.example", "a b", "-x.example", "x..example"] {
            assert!(AllowList::parse(&[bad.to_string()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn without_entries_only_public_addresses_pass() {
        let l = AllowList::default();
        let r = l.check("169.254.169.254".parse().expect("ip")).expect_err("metadata");
        assert_eq!(r.kind, "link-local");
        assert!(l.check("::ffff:127.0.0.1".parse().expect("ip")).is_err());
        assert_eq!(l.check("93.184.215.14".parse().expect("ip")), Ok(()));
    }

    #[test]
    fn resolved_addresses_are_filtered() {
        let l = list(&["127.0.0.1", "allowed.example"]);
        assert_eq!(l.permitted("a.example", vec![sock("10.0.0.1"), sock("8.8.8.8")]), Ok(vec![sock("8.8.8.8")]), "private dropped");
        assert_eq!(l.permitted("a.example", vec![sock("127.0.0.1"), sock("::1")]), Ok(vec![sock("127.0.0.1")]), "allowed kept");
        let r = l.permitted("a.example", vec![sock("10.0.0.1"), sock("fd00::1")]).expect_err("nothing left");
        assert_eq!((r.ip, r.kind), ("10.0.0.1".parse().expect("ip"), "private"));
        assert_eq!(l.permitted("allowed.example", vec![sock("10.0.0.1")]), Ok(vec![sock("10.0.0.1")]), "an allowed name");
        assert_eq!(l.permitted("a.example", vec![]), Ok(vec![]));
    }
}
