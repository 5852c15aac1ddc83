//! The client's address: the TCP peer, or, when the peer is a proxy the server was told to
//! trust, the address that proxy says it forwarded for.
//!
//! Forwarding headers (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`) are set freely by any
//! client, so they count only on connections from a configured trusted proxy
//! ([`ServerBuilder::trusted_proxies`](crate::ServerBuilder::trusted_proxies)). The client is
//! then the right-most forwarded address that is not itself a trusted proxy: proxies append
//! what they saw, so everything left of the last untrusted hop may be forged.
//!
//! For rate limits an address becomes a key: an IPv4 address as is, an IPv6 address by its
//! /64 prefix (one host usually holds a whole /64, so per-address keys would give it 2^64
//! budgets).

use std::net::IpAddr;

use ipnet::IpNet;

/// The caller's address, as the server established it. Procedures read it with
/// `cx.get::<ClientAddress>()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddress(pub IpAddr);

/// Networks whose connections may tell the client's address in forwarding headers.
#[derive(Clone, Debug, Default)]
pub(crate) struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub(crate) fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        Self(networks.into_iter().collect())
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's address for a request from `peer` with `headers`.
    pub(crate) fn client(&self, peer: IpAddr, headers: &http::HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let forwarded = forwarded_for(headers);
        let hops = if forwarded.is_empty() { x_forwarded_for(headers) } else { forwarded };
        if let Some(client) = hops.iter().rev().copied().find(|hop| !self.trusts(*hop)) {
            return client;
        }
        if let Some(real) = header_text(headers, "x-real-ip").and_then(|v| parse_address(v.trim())) {
            return real;
        }
        // Every hop is a trusted proxy (or none was named): the left-most is the furthest seen.
        hops.first().copied().unwrap_or(peer)
    }
}

/// The rate-limit key of an address (IPv6 by its /64).
pub(crate) fn address_key(address: IpAddr) -> Box<str> {
    match canonical(address) {
        IpAddr::V4(v4) => format!("ip:{v4}").into(),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            format!("ip:{}/64", std::net::Ipv6Addr::from(prefix)).into()
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, what a dual-stack socket reports) as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

fn header_text<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// `for=` addresses of every `Forwarded` header (RFC 7239), in order.
fn forwarded_for(headers: &http::HeaderMap) -> Vec<IpAddr> {
    headers
        .get_all(http::header::FORWARDED)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.eq_ignore_ascii_case("for").then(|| parse_address(value.trim().trim_matches('"')))?
            })
        })
        .collect()
}

fn x_forwarded_for(headers: &http::HeaderMap) -> Vec<IpAddr> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|hop| parse_address(hop.trim()))
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:80`.
fn parse_address(text: &str) -> Option<IpAddr> {
    if let Ok(address) = text.parse::<IpAddr>() {
        return Some(canonical(address));
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok().map(canonical);
    }
    text.rsplit_once(':')?.0.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in pairs {
            map.append(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let proxies = TrustedProxies::default();
        let forged = headers(&[("x-forwarded-for", "9.9.9.9"), ("x-real-ip", "8.8.8.8"), ("forwarded", "for=7.7.7.7")]);
        assert_eq!(proxies.client(ip("1.2.3.4"), &forged), ip("1.2.3.4"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let proxies = TrustedProxies::new(["10.0.0.0/8".parse().unwrap()]);
        let peer = ip("10.0.0.2");
        // The client forged the first hop; the right-most untrusted hop is what the proxy saw.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 5.5.5.5, 10.0.0.9")]);
        assert_eq!(proxies.client(peer, &chain), ip("5.5.5.5"));
        let rfc = headers(&[("forwarded", r#"for="[2001:db8::7]:443";proto=https, for=10.1.1.1"#)]);
        assert_eq!(proxies.client(peer, &rfc), ip("2001:db8::7"));
        assert_eq!(proxies.client(peer, &headers(&[("x-real-ip", "4.4.4.4")])), ip("4.4.4.4"));
        assert_eq!(proxies.client(peer, &headers(&[("x-forwarded-for", "garbage")])), peer);
        assert_eq!(proxies.client(peer, &headers(&[])), peer);
    }

    #[test]
    fn keys_group_ipv6_by_its_64_prefix() {
        assert_eq!(&*address_key(ip("1.2.3.4")), "ip:1.2.3.4");
        assert_eq!(&*address_key(ip("::ffff:1.2.3.4")), "ip:1.2.3.4");
        assert_eq!(address_key(ip("2001:db8::1")), address_key(ip("2001:db8::ffff:1")));
        assert_ne!(address_key(ip("2001:db8::1")), address_key(ip("2001:db8:0:1::1")));
    }
}
