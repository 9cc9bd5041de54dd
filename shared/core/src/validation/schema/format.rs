//! String formats the schemas give some properties (`CidrIp` is an `ipv4-network`), judged as
//! cfn-lint judges them (Python's `ipaddress`, strict about host bits). Where the two readers
//! could differ (a dotted netmask, a zone index) the value is accepted: a gate must not reject
//! what CloudFormation would take.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::Format;

/// Why `text` does not have `format`; `None` when it does (or cannot be judged here).
pub(crate) fn problem(format: Format, text: &str) -> Option<String> {
    match format {
        Format::Ipv4 => ipv4(text).err(),
        Format::Ipv4Network => network(text, 32, |a| ipv4(a).map(|a| u32::from(a).into())).err(),
        Format::Ipv6 => ipv6(text).err(),
        // A zone index: not judged here.
        Format::Ipv6Network if text.contains('%') => None,
        Format::Ipv6Network => network(text, 128, |a| ipv6(a).map(u128::from)).err(),
    }
}

/// Four decimal octets, each 0–255 and without leading zeros.
fn ipv4(text: &str) -> Result<Ipv4Addr, String> {
    let octets: Vec<&str> = text.split('.').collect();
    if octets.len() != 4 {
        return Err("an IPv4 address has four octets".into());
    }
    let mut bytes = [0u8; 4];
    for (byte, octet) in bytes.iter_mut().zip(&octets) {
        let digits =
            !octet.is_empty() && octet.len() <= 3 && octet.bytes().all(|b| b.is_ascii_digit());
        if !digits {
            return Err(format!("octet '{octet}' is not a number from 0 to 255"));
        }
        if octet.len() > 1 && octet.starts_with('0') {
            return Err(format!("octet '{octet}' has a leading zero"));
        }
        *byte = octet
            .parse()
            .map_err(|_| format!("octet '{octet}' is not a number from 0 to 255"))?;
    }
    Ok(Ipv4Addr::from(bytes))
}

fn ipv6(text: &str) -> Result<Ipv6Addr, String> {
    if text.contains('%') {
        // A zone index: not judged here.
        return Ok(Ipv6Addr::UNSPECIFIED);
    }
    text.parse()
        .map_err(|_| format!("'{text}' is not an IPv6 address"))
}

/// `address[/prefix]` of a `width`-bit address family, strict about host bits.
fn network(
    text: &str,
    width: u32,
    address: impl Fn(&str) -> Result<u128, String>,
) -> Result<(), String> {
    let (address_text, prefix) = split_network(text)?;
    let address = address(address_text)?;
    let Some(prefix) = prefix else {
        return Ok(());
    };
    let Some(bits) = prefix_length(prefix, width)? else {
        return Ok(());
    };
    // The low `width - bits` bits of the address are the host's.
    let host_mask = u128::MAX.checked_shr(128 - (width - bits)).unwrap_or(0);
    if address & host_mask != 0 {
        return Err(format!("host bits are set for a /{bits} block"));
    }
    Ok(())
}

/// `address[/prefix]`.
fn split_network(text: &str) -> Result<(&str, Option<&str>), String> {
    let mut parts = text.split('/');
    let address = parts.next().unwrap_or_default();
    let prefix = parts.next();
    if parts.next().is_some() {
        return Err("a network has one '/'".into());
    }
    Ok((address, prefix))
}

/// A prefix length of at most `max` bits; `None` for a dotted netmask, which is not judged.
fn prefix_length(prefix: &str, max: u32) -> Result<Option<u32>, String> {
    if prefix.contains('.') {
        return Ok(None);
    }
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("prefix length '{prefix}' is not a number"));
    }
    match prefix.parse::<u32>() {
        Ok(bits) if bits <= max => Ok(Some(bits)),
        _ => Err(format!("prefix length /{prefix} is longer than {max} bits")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_networks_are_judged_as_python_judges_them() {
        for good in [
            "10.0.0.0/16",
            "0.0.0.0/0",
            "192.168.1.0/24",
            "10.1.2.3",
            "10.1.2.3/32",
            "100.64.0.0/016",
            "10.0.0.0/255.255.0.0",
        ] {
            assert_eq!(problem(Format::Ipv4Network, good), None, "{good}");
        }
        for bad in [
            "192.168.1.0/0",
            "10.0.0.1/16",
            "10.0.0.0/33",
            "10.0.0/16",
            "10.0.0.256/32",
            "010.0.0.0/8",
            "10.0.0.0/",
            "10.0.0.0/1/2",
            "10.0.0.0/x",
            "any",
        ] {
            assert!(problem(Format::Ipv4Network, bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn ipv6_networks_are_judged_as_python_judges_them() {
        for good in [
            "::/0",
            "2001:db8::/32",
            "2001:db8::1",
            "2001:db8::1/128",
            "fe80::1%eth0",
        ] {
            assert_eq!(problem(Format::Ipv6Network, good), None, "{good}");
        }
        for bad in [
            "2001:db8::1/64",
            "2001:db8::/129",
            "2001:db8:::/32",
            "10.0.0.0/8",
            "::/",
        ] {
            assert!(problem(Format::Ipv6Network, bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn addresses_take_no_prefix() {
        assert_eq!(problem(Format::Ipv4, "10.0.0.1"), None);
        assert!(problem(Format::Ipv4, "10.0.0.0/8").is_some());
        assert_eq!(problem(Format::Ipv6, "::1"), None);
        assert!(problem(Format::Ipv6, "::1/128").is_some());
    }
}
