//! The client's address: the TCP peer, or, when the peer is a configured trusted proxy, the
//! address that proxy (and the trusted ones before it) recorded in `X-Forwarded-For`.
use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// `X-Forwarded-For`: each proxy appends the address it received the request from.
pub const FORWARDED_FOR: &str = "x-forwarded-for";

/// The proxies whose `X-Forwarded-For` is believed (`CALLBROKER_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses IP addresses and CIDR ranges (`10.0.0.0/8`, `127.0.0.1`, `::1`).
    pub fn parse(entries: &[String]) -> Result<TrustedProxies, String> {
        let nets = entries
            .iter()
            .map(|e| {
                let e = e.trim();
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("trusted proxy {e:?} is neither an IP address nor a CIDR range"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies(nets))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client's address: `peer` when it is not a trusted proxy; otherwise `X-Forwarded-For`
    /// walked from the right (the entry the nearest proxy added), skipping trusted hops, to the
    /// first address that is not a trusted proxy. Entries left of that one were written by the
    /// client and are ignored. When every hop is trusted, the leftmost; when an entry is not an
    /// address, the last trusted hop reached.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let mut current = canonical(peer?);
        if !self.trusts(current) {
            return Some(current);
        }
        let values: Vec<&str> = headers.get_all(FORWARDED_FOR).filter_map(|v| v.to_str().ok()).collect();
        let hops = values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|h| !h.is_empty()).collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else { return Some(current) };
            current = canonical(ip);
            if !self.trusts(current) {
                return Some(current);
            }
        }
        Some(current)
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// An IPv4 address mapped into IPv6 (`::ffff:1.2.3.4`) as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(HeaderName::from_static(FORWARDED_FOR), HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarded_for_is_believed_from_trusted_proxies_only() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".into(), "127.0.0.1".into()]).expect("parse");
        let spoofed = headers(&["6.6.6.6"]);
        assert_eq!(proxies.client_ip(Some(ip("203.0.113.9")), &spoofed), Some(ip("203.0.113.9")), "an untrusted peer is the client");
        assert_eq!(proxies.client_ip(Some(ip("127.0.0.1")), &headers(&["198.51.100.7"])), Some(ip("198.51.100.7")));
        // The client wrote 6.6.6.6 itself; the proxies appended what they saw.
        let chain = headers(&["6.6.6.6, 198.51.100.7", "10.1.2.3"]);
        assert_eq!(proxies.client_ip(Some(ip("10.9.9.9")), &chain), Some(ip("198.51.100.7")), "right to left, trusted hops skipped");
        assert_eq!(proxies.client_ip(Some(ip("10.9.9.9")), &headers(&["10.1.1.1, 10.2.2.2"])), Some(ip("10.1.1.1")), "all trusted");
        assert_eq!(proxies.client_ip(Some(ip("10.9.9.9")), &HeaderMap::new()), Some(ip("10.9.9.9")), "no header: the proxy");
        assert_eq!(proxies.client_ip(Some(ip("10.9.9.9")), &headers(&["1.2.3.4, garbage"])), Some(ip("10.9.9.9")), "not an address");
        assert_eq!(proxies.client_ip(Some(ip("10.9.9.9")), &headers(&["[2001:db8::1]:443"])), Some(ip("2001:db8::1")));
        assert_eq!(proxies.client_ip(Some(ip("::ffff:127.0.0.1")), &headers(&["192.0.2.1"])), Some(ip("192.0.2.1")), "v4-mapped peer");
        let none = TrustedProxies::default();
        assert_eq!(none.client_ip(Some(ip("127.0.0.1")), &headers(&["192.0.2.1"])), Some(ip("127.0.0.1")), "none trusted by default");
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["proxy.example".into()]).is_err());
    }
}
