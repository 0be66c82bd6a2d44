//! Where webhooks may go. A subscription is a request this service makes on
//! someone's behalf, so by default it may not reach this machine or a
//! private network (SSRF): addresses are checked when a subscription is
//! saved (literal addresses and `localhost`) and again on every connection
//! (each name's resolved addresses, by the resolver the sender uses), so a
//! name that later resolves inward is refused too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use futures_util::future::LocalBoxFuture;

/// Whether webhooks may reach loopback, link-local and private addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    pub allow_private: bool,
}

/// Loopback, private, link-local, shared, multicast, reserved or
/// unspecified: anything that is not a public unicast address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => internal_v6(v6),
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return internal_v4(v4);
    }
    let s = ip.segments();
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0; 3]) // discard-only
        || (s[0] == 0x2001 && s[1] < 0x0200) // Teredo, ORCHID and other IETF special ranges
        // NAT64, IPv4-compatible and IPv4-translated forms reach the
        // embedded IPv4 address, 6to4 the one after its prefix.
        || (s[0] == 0x0064 && s[1] == 0xff9b && internal_v4(embedded_v4(&s)))
        || (s[..6] == [0; 6] && internal_v4(embedded_v4(&s)))
        || (s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0 && internal_v4(embedded_v4(&s)))
        || (s[0] == 0x2002
            && internal_v4(Ipv4Addr::new(
                (s[1] >> 8) as u8,
                s[1] as u8,
                (s[2] >> 8) as u8,
                s[2] as u8,
            )))
}

fn embedded_v4(s: &[u16; 8]) -> Ipv4Addr {
    Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8)
}

impl TargetPolicy {
    /// Checks what can be checked without DNS: a literal address, or a name
    /// that always means this machine.
    pub fn check_url(&self, url: &str) -> Result<(), String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("only http and https URLs can receive webhooks".into());
        }
        if self.allow_private {
            return Ok(());
        }
        let refused = |what: &str| {
            Err(format!(
                "refused: {what} is not a public address; the operator has not allowed webhooks to this machine or a private network"
            ))
        };
        match parsed.host() {
            Some(url::Host::Ipv4(ip)) if internal_v4(ip) => refused(&ip.to_string()),
            Some(url::Host::Ipv6(ip)) if internal_v6(ip) => refused(&ip.to_string()),
            Some(url::Host::Domain(d))
                if d.eq_ignore_ascii_case("localhost")
                    || d.to_ascii_lowercase().ends_with(".localhost") =>
            {
                refused(d)
            }
            None => Err("the URL has no host".into()),
            _ => Ok(()),
        }
    }

    /// Keeps the resolved addresses of `host`, or refuses them all when one
    /// is internal (a name with a public and a private address is as good as
    /// a private one to an attacker).
    pub fn check_resolved(
        &self,
        host: &str,
        addrs: Vec<SocketAddr>,
    ) -> Result<Vec<SocketAddr>, String> {
        // The message names no address: the delivery log is read by the
        // subscriber, who must not learn how internal names resolve.
        if !self.allow_private && addrs.iter().any(|a| is_internal(a.ip())) {
            return Err(format!(
                "refused: {host} does not resolve to public addresses only; the operator has not allowed webhooks to this machine or a private network"
            ));
        }
        Ok(addrs)
    }
}

/// The resolver webhook connections use: the system's, then the policy.
pub struct GuardedResolver(pub TargetPolicy);

impl actix_tls::connect::Resolve for GuardedResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> LocalBoxFuture<'a, Result<Vec<SocketAddr>, Box<dyn std::error::Error>>> {
        Box::pin(async move {
            let name = format!("{host}:{port}");
            let addrs = actix_web::rt::task::spawn_blocking(move || {
                std::net::ToSocketAddrs::to_socket_addrs(&name).map(Iterator::collect::<Vec<_>>)
            })
            .await??;
            Ok(self.0.check_resolved(host, addrs)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_ranges_are_refused() {
        let strict = TargetPolicy::default();
        for url in [
            "http://127.0.0.1/",
            "http://127.8.9.10:8080/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[::ffff:0:127.0.0.1]/",
            "http://[2002:7f00:1::]/",
            "http://[2002:a00:1::1]/",
            "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", // Teredo
            "http://localhost:3000/",
            "http://api.LOCALHOST/",
            "http://2130706433/", // 127.0.0.1 written as a number
        ] {
            assert!(strict.check_url(url).is_err(), "{url} should be refused");
        }
        for url in [
            "https://hr.example.com/hook",
            "http://8.8.8.8/",
            "https://[2606:4700::1111]/",
            "https://[2002:808:808::1]/", // 6to4 of 8.8.8.8
        ] {
            assert!(strict.check_url(url).is_ok(), "{url} should pass");
        }
        assert!(strict.check_url("ftp://example.com/").is_err());
        let open = TargetPolicy {
            allow_private: true,
        };
        assert!(open.check_url("http://127.0.0.1:9000/").is_ok());
    }

    #[test]
    fn a_name_with_one_private_address_is_refused() {
        let strict = TargetPolicy::default();
        let public: SocketAddr = "93.184.216.34:443".parse().unwrap();
        let private: SocketAddr = "10.0.0.5:443".parse().unwrap();
        assert!(strict.check_resolved("a.example", vec![public]).is_ok());
        let refused = strict
            .check_resolved("a.example", vec![public, private])
            .unwrap_err();
        assert!(!refused.contains("10.0.0.5"), "{refused}");
        let open = TargetPolicy {
            allow_private: true,
        };
        assert!(open.check_resolved("a.example", vec![private]).is_ok());
    }
}
