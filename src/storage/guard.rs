//! Refuse storage endpoints inside the server's own network. Checked on literal addresses
//! when a client is built and on every DNS answer at connect time (so a name that later
//! re-resolves to 127.0.0.1 is refused too).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use object_store::client::{DnsError, DnsFuture, DnsResolver};

/// True for addresses a user-named endpoint may reach: not loopback, private, link-local
/// (cloud metadata), shared, unspecified, multicast or documentation ranges.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (18..20).contains(&o[1]))
        || o[0] >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let seg0 = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (seg0 & 0xfe00) == 0xfc00
        || (seg0 & 0xffc0) == 0xfe80
        || seg0 == 0x2001 && ip.segments()[1] == 0x0db8)
}

/// A resolver that drops every non-public address and fails when none is left.
#[derive(Debug)]
pub struct PublicOnly;

impl DnsResolver for PublicOnly {
    fn resolve(&self, host: &str) -> DnsFuture {
        let host = host.to_string();
        Box::pin(async move {
            let addrs: Vec<IpAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| -> DnsError { Box::new(e) })?
                .map(|a| a.ip())
                .collect();
            let public: Vec<IpAddr> = addrs.into_iter().filter(|ip| is_public(*ip)).collect();
            if public.is_empty() {
                return Err(format!(
                    "endpoint host {host} resolves to a private, loopback or link-local address, which this server does not allow"
                )
                .into());
            }
            Ok(public)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_ranges_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "52.216.0.1", "2600:1f18::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn localhost_names_are_refused_at_resolution() {
        let err = PublicOnly.resolve("localhost").await.unwrap_err();
        assert!(err.to_string().contains("private"));
    }
}
