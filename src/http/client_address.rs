//! The client's address (SPEC §3 v2): the TCP peer, or — only when the peer is one of the
//! reverse proxies listed in `GROUPWORK_TRUSTED_PROXIES` — the `X-Forwarded-For` hop that proxy
//! wrote. Everything to the left of the hops written by trusted proxies was written by the
//! client and is ignored, so nobody can choose the address their attempts are counted against.

use std::fmt;
use std::net::IpAddr;

/// One network in CIDR notation (`10.0.0.0/8`, `fd00::/8`, or a bare address).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl fmt::Debug for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u32::from(v4) as u128, 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

fn mask(value: u128, width: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        let keep = (!0u128) << (width - prefix);
        value & keep & if width == 32 { u32::MAX as u128 } else { !0 }
    }
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr.parse().ok()?;
        let network = network.to_canonical();
        let (value, width) = bits(network);
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|p| *p <= width)?
            }
            Some(_) => return None,
            None => width,
        };
        let masked = mask(value, width, prefix);
        let network = match network {
            IpAddr::V4(_) => IpAddr::V4((masked as u32).into()),
            IpAddr::V6(_) => IpAddr::V6(masked.into()),
        };
        Some(Cidr { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        let (value, width) = bits(ip);
        let (net, net_width) = bits(self.network);
        width == net_width && mask(value, width, self.prefix) == net
    }
}

/// Parses `GROUPWORK_TRUSTED_PROXIES`: comma-separated CIDRs. `Err` names the bad entry.
pub fn parse_list(raw: &str) -> Result<Vec<Cidr>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Cidr::parse(s).ok_or_else(|| s.to_string()))
        .collect()
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(sa) = hop.parse::<std::net::SocketAddr>() {
        return Some(sa.ip().to_canonical());
    }
    let inner = hop.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// The address requests from `peer` are counted against. `forwarded_for` are the values of
/// the request's `X-Forwarded-For` headers in order. Walking from the right, each hop is
/// believed only while the address that wrote it (first the peer) is a trusted proxy.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted: &[Cidr],
) -> IpAddr {
    let mut addr = peer.to_canonical();
    if !trusted.iter().any(|c| c.contains(addr)) {
        return addr;
    }
    let hops: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    for hop in hops.iter().rev() {
        if !trusted.iter().any(|c| c.contains(addr)) {
            break;
        }
        match parse_hop(hop) {
            Some(ip) => addr = ip,
            // Garbage where a trusted proxy should have written an address: stop at the proxy.
            None => break,
        }
    }
    addr
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidrs_parse_and_match() {
        let list = parse_list("10.0.0.0/8, 192.168.1.7 ,fd00::/8,").unwrap();
        assert_eq!(list.len(), 3);
        assert!(list[0].contains(ip("10.200.3.4")));
        assert!(!list[0].contains(ip("11.0.0.1")));
        assert!(list[1].contains(ip("192.168.1.7")));
        assert!(!list[1].contains(ip("192.168.1.8")));
        assert!(list[2].contains(ip("fd12::1")));
        assert!(!list[2].contains(ip("10.0.0.1")));
        // IPv4-mapped IPv6 peers are their IPv4 address.
        assert!(list[0].contains(ip("::ffff:10.1.2.3")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in [
            "10.0.0.0/33",
            "10.0.0/8",
            "proxy",
            "10.0.0.0/",
            "::/129",
            "1.2.3.4/+8",
        ] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(parse_list("10.0.0.0/8,nope").unwrap_err(), "nope");
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = parse_list("10.0.0.0/8").unwrap();
        let peer = ip("10.0.0.2");
        // No trust: the header is ignored.
        assert_eq!(
            client_address(ip("198.51.100.9"), ["203.0.113.5"], &trusted),
            ip("198.51.100.9")
        );
        assert_eq!(client_address(peer, ["203.0.113.5"], &[]), peer);
        // The hop the proxy wrote; what the client put to its left is ignored.
        assert_eq!(
            client_address(peer, ["203.0.113.5"], &trusted),
            ip("203.0.113.5")
        );
        assert_eq!(
            client_address(peer, ["1.2.3.4, 203.0.113.5"], &trusted),
            ip("203.0.113.5")
        );
        assert_eq!(
            client_address(peer, ["1.2.3.4", "203.0.113.5:4431"], &trusted),
            ip("203.0.113.5")
        );
        // A chain of trusted proxies is walked through.
        assert_eq!(
            client_address(peer, ["203.0.113.5, 10.0.0.9"], &trusted),
            ip("203.0.113.5")
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(client_address(peer, [], &trusted), peer);
        assert_eq!(client_address(peer, ["unknown"], &trusted), peer);
        assert_eq!(
            client_address(peer, ["[2001:db8::1]:443"], &trusted),
            ip("2001:db8::1")
        );
    }
}
