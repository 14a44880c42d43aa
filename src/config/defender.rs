//! `[defender]`: the per-origin score, bans, the allow-list and the per-origin connection
//! limits both listeners apply (docs/folders-and-protocols.md, "Defender").

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use toml::Spanned;

use super::check::Checker;
use super::file::RawDefender;

/// The checked `[defender]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefenderConfig {
    /// Whether origins are scored and banned (the connection limits apply either way).
    pub enabled: bool,
    /// How long a scored event counts towards a ban.
    pub window: Duration,
    /// Score within the window that bans an origin.
    pub threshold: u32,
    /// Length of an origin's first ban; each repeat doubles it …
    pub ban: Duration,
    /// … up to this.
    pub max_ban: Duration,
    /// Networks that are never scored, banned or limited per origin.
    pub allow: Vec<Cidr>,
    /// Open connections from one address, per listener.
    pub max_connections_per_origin: usize,
    /// Connections not yet authenticated, per listener (random early drop from half of it).
    pub max_unauthenticated: usize,
    /// Connections not yet authenticated from one address, per listener.
    pub max_unauthenticated_per_origin: usize,
}

impl Default for DefenderConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window: Duration::from_secs(600),
            threshold: 20,
            ban: Duration::from_secs(600),
            max_ban: Duration::from_secs(86_400),
            allow: Vec::new(),
            max_connections_per_origin: 32,
            max_unauthenticated: 64,
            max_unauthenticated_per_origin: 8,
        }
    }
}

impl DefenderConfig {
    /// Whether `ip` lies in an allow-listed network.
    pub fn allowed(&self, ip: IpAddr) -> bool {
        self.allow.iter().any(|c| c.contains(ip))
    }
}

/// An IPv4 or IPv6 network, `address/prefix` (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

/// Why a CIDR could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CidrError {
    /// The part before `/` is no IP address.
    #[error("'{0}' is not an IP address")]
    Address(String),
    /// The prefix length is no number or longer than the address.
    #[error("prefix /{0} is not 0–32 (IPv4) or 0–128 (IPv6)")]
    Prefix(String),
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
        let net: IpAddr = addr.trim().parse().map_err(|_| CidrError::Address(addr.to_owned()))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => {
                p.trim().parse::<u8>().ok().filter(|n| *n <= max).ok_or(CidrError::Prefix(p.to_owned()))?
            }
        };
        Ok(Cidr { net, prefix })
    }
}

impl Cidr {
    /// Whether `ip` lies in this network (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => same_prefix(&n.octets(), &a.octets(), self.prefix),
            (IpAddr::V6(n), IpAddr::V6(a)) => same_prefix(&n.octets(), &a.octets(), self.prefix),
            _ => false,
        }
    }
}

fn same_prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

/// Checks `[defender]`; an out-of-range value or a bad CIDR is reported and its default used.
pub(super) fn check(c: &mut Checker<'_>, raw: &RawDefender) -> DefenderConfig {
    let d = DefenderConfig::default();
    let mut range = |v: &Spanned<i64>, name: &str, lo: i64, hi: i64, default: u64| -> u64 {
        let x = *v.get_ref();
        if (lo..=hi).contains(&x) {
            x as u64
        } else {
            c.report(
                v,
                format!("[defender] {name} = {x} is out of range"),
                format!("write {lo} to {hi}; the default is {default}"),
            );
            default
        }
    };
    let secs = |d: Duration| d.as_secs();
    let window = range(&raw.window_secs, "window_secs", 10, 86_400, secs(d.window));
    let threshold = range(&raw.ban_threshold, "ban_threshold", 3, 100_000, u64::from(d.threshold));
    let ban = range(&raw.ban_secs, "ban_secs", 1, 86_400 * 30, secs(d.ban));
    let max_ban = range(&raw.max_ban_secs, "max_ban_secs", 1, 86_400 * 365, secs(d.max_ban));
    let per_origin = range(&raw.max_connections_per_origin, "max_connections_per_origin", 1, 100_000, 32);
    let unauth = range(&raw.max_unauthenticated, "max_unauthenticated", 2, 100_000, 64);
    let unauth_origin =
        range(&raw.max_unauthenticated_per_origin, "max_unauthenticated_per_origin", 1, 100_000, 8);
    let mut allow = Vec::new();
    for a in &raw.allow {
        match a.get_ref().parse::<Cidr>() {
            Ok(cidr) => allow.push(cidr),
            Err(e) => c.report(
                a,
                format!("[defender] allow: {e}"),
                "write a network as address/prefix, e.g. \"192.0.2.0/24\" or \"2001:db8::/32\"",
            ),
        }
    }
    DefenderConfig {
        enabled: raw.enabled,
        window: Duration::from_secs(window),
        threshold: threshold as u32,
        ban: Duration::from_secs(ban),
        max_ban: Duration::from_secs(max_ban.max(ban)),
        allow,
        max_connections_per_origin: per_origin as usize,
        max_unauthenticated: unauth as usize,
        max_unauthenticated_per_origin: unauth_origin as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let c: Cidr = "192.0.2.0/24".parse().unwrap();
        assert!(c.contains(ip("192.0.2.77")) && !c.contains(ip("192.0.3.1")));
        assert!(c.contains(ip("::ffff:192.0.2.9")), "IPv4-mapped");
        let c: Cidr = "10.0.0.0/9".parse().unwrap();
        assert!(c.contains(ip("10.127.255.255")) && !c.contains(ip("10.128.0.0")));
        let c: Cidr = "127.0.0.2".parse().unwrap();
        assert!(c.contains(ip("127.0.0.2")) && !c.contains(ip("127.0.0.1")));
        let c: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(
            c.contains(ip("2001:db8:1::5")) && !c.contains(ip("2001:db9::1")) && !c.contains(ip("10.0.0.1"))
        );
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        assert_eq!("10.0.0.0/33".parse::<Cidr>(), Err(CidrError::Prefix("33".into())));
        assert_eq!("nope/8".parse::<Cidr>(), Err(CidrError::Address("nope".into())));
    }
}
