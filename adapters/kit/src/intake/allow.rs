//! The addresses a pushed feed accepts connections from: single addresses and CIDR
//! blocks. An empty list accepts every address (a sidecar or a network policy
//! decides instead).

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList(Vec<IpNet>);

impl AllowList {
    /// Whether a connection from `ip` is let in. An IPv4 address seen as IPv6
    /// (`::ffff:10.0.0.5`, on a dual-stack socket) counts as the IPv4 address.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.is_empty() || self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The blocks, comma-separated, for the log.
    pub fn describe(&self) -> String {
        let blocks: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        blocks.join(",")
    }
}

impl FromStr for AllowList {
    type Err = String;

    /// `10.1.2.3,10.20.0.0/16,fd00::/8`: addresses and CIDR blocks.
    fn from_str(text: &str) -> Result<AllowList, String> {
        let mut blocks = Vec::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let block = match item.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => match item.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip.to_canonical()),
                    Err(_) => {
                        return Err(format!(
                            "{item:?} is neither an IP address nor a CIDR block"
                        ));
                    }
                },
            };
            blocks.push(block);
        }
        Ok(AllowList(blocks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_blocks_let_their_own_in_and_no_one_else() {
        let list: AllowList = "10.1.2.3, 10.20.0.0/16,fd00::/8".parse().unwrap();
        for ip in ["10.1.2.3", "10.20.200.1", "fd00::1", "::ffff:10.20.0.9"] {
            assert!(list.allows(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["10.1.2.4", "10.21.0.1", "127.0.0.1", "fe80::1"] {
            assert!(!list.allows(ip.parse().unwrap()), "{ip}");
        }
        assert_eq!(list.describe(), "10.1.2.3/32,10.20.0.0/16,fd00::/8");
    }

    #[test]
    fn an_empty_list_lets_everyone_in_and_a_typo_is_an_error() {
        let list: AllowList = "".parse().unwrap();
        assert!(list.allows("192.0.2.1".parse().unwrap()));
        let error = "10.0.0.0/33".parse::<AllowList>().unwrap_err();
        assert!(error.contains("10.0.0.0/33"), "{error}");
        assert!("10.0.0.x".parse::<AllowList>().is_err());
    }
}
