//! Typed condition values: dates, IP ranges and base64 binary, each parsed
//! with the forms IAM accepts.

use std::net::IpAddr;

/// A point in time as seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    pub seconds: i64,
    pub nanos: u32,
}

/// Parses a W3C ISO 8601 date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`,
/// `YYYY-MM-DDThh:mmTZD`, `YYYY-MM-DDThh:mm:ssTZD`,
/// `YYYY-MM-DDThh:mm:ss.sTZD`, with TZD `Z` or `±hh:mm`) or epoch seconds.
///
/// NOTE: a bare four-digit number is read as a year, not as epoch seconds,
/// because both forms are allowed and a time in 1970 is the less likely one.
pub fn parse_date(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.len() != 4 && !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) {
        return text.parse().ok().map(|seconds| Timestamp { seconds, nanos: 0 });
    }
    parse_iso8601(text)
}

fn parse_iso8601(text: &str) -> Option<Timestamp> {
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };

    let mut fields = date.split('-');
    let year: i64 = digits(fields.next()?, 4)?;
    let month: u32 = fields.next().map_or(Some(1), |field| digits(field, 2))?;
    let day: u32 = fields.next().map_or(Some(1), |field| digits(field, 2))?;
    if fields.next().is_some() || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    // A time needs the full date.
    if time.is_some() && date.len() != 10 {
        return None;
    }
    let days = days_from_civil(year, month, day);

    let (seconds_of_day, nanos, offset) = match time {
        None => (0, 0, 0),
        Some(time) => parse_time(time)?,
    };
    Some(Timestamp { seconds: days * 86_400 + seconds_of_day - offset, nanos })
}

/// Parses `hh:mm[:ss[.s+]]TZD` into seconds of the day, nanoseconds and the
/// zone offset in seconds.
fn parse_time(time: &str) -> Option<(i64, u32, i64)> {
    let (clock, offset) = if let Some(clock) = time.strip_suffix('Z') {
        (clock, 0)
    } else {
        let split = time.rfind(['+', '-'])?;
        let (clock, zone) = time.split_at(split);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (hours, minutes) = zone.get(1..)?.split_once(':')?;
        let hours: i64 = digits(hours, 2)?;
        let minutes: i64 = digits(minutes, 2)?;
        if hours > 23 || minutes > 59 {
            return None;
        }
        (clock, sign * (hours * 3600 + minutes * 60))
    };

    let mut fields = clock.splitn(3, ':');
    let hour: i64 = digits(fields.next()?, 2)?;
    let minute: i64 = digits(fields.next()?, 2)?;
    let (second, nanos) = match fields.next() {
        None => (0, 0),
        Some(seconds) => {
            let (whole, fraction) = match seconds.split_once('.') {
                Some((whole, fraction)) => (whole, Some(fraction)),
                None => (seconds, None),
            };
            let second: i64 = digits(whole, 2)?;
            let nanos = match fraction {
                None => 0,
                Some(fraction) => parse_fraction(fraction)?,
            };
            (second, nanos)
        }
    };
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some((hour * 3600 + minute * 60 + second, nanos, offset))
}

fn parse_fraction(fraction: &str) -> Option<u32> {
    if fraction.is_empty() || !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let mut nanos = 0u32;
    for (position, digit) in fraction.bytes().take(9).enumerate() {
        nanos += u32::from(digit - b'0') * 10u32.pow(8 - position as u32);
    }
    Some(nanos)
}

/// Parses exactly `width` ASCII digits.
fn digits<T: std::str::FromStr>(field: &str, width: usize) -> Option<T> {
    if field.len() != width || !field.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    field.parse().ok()
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil` algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// An IP network: an address and a prefix length (the full width for a bare address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    pub address: IpAddr,
    pub prefix: u8,
}

impl IpNetwork {
    /// Parses `address` or `address/prefix`, IPv4 or IPv6.
    pub fn parse(text: &str) -> Option<IpNetwork> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.parse().ok()?;
        let width = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(prefix) if !prefix.is_empty() && prefix.bytes().all(|byte| byte.is_ascii_digit()) => prefix.parse().ok()?,
            Some(_) => return None,
        };
        if prefix > width {
            return None;
        }
        Some(IpNetwork { address, prefix })
    }

    /// Tells whether `address` lies in the network. IPv4 and IPv6 never mix.
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.address, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                prefix_equal(u128::from(u32::from(network)) << 96, u128::from(u32::from(address)) << 96, self.prefix)
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => prefix_equal(u128::from(network), u128::from(address), self.prefix),
            _ => false,
        }
    }
}

/// Compares the top `prefix` bits of two 128-bit values.
fn prefix_equal(left: u128, right: u128, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - u32::from(prefix));
    left & mask == right & mask
}

/// Decodes standard base64 (RFC 4648, `+` and `/`, padding optional).
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // Six leftover bits cannot come from a whole number of bytes, and the
    // canonical encoding pads with zero bits.
    if bits >= 6 || buffer != 0 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(text: &str) -> Option<i64> {
        parse_date(text).map(|timestamp| timestamp.seconds)
    }

    #[test]
    fn date_forms_parse_to_epoch() {
        assert_eq!(seconds("2026-12-04T12:00:00Z"), Some(1_796_385_600));
        assert_eq!(seconds("2026-12-04T13:30:00+01:30"), Some(1_796_385_600));
        assert_eq!(seconds("2026-12-04T12:00Z"), Some(1_796_385_600));
        assert_eq!(seconds("2026-12-04"), Some(1_796_342_400));
        assert_eq!(seconds("2026-12"), seconds("2026-12-01"));
        assert_eq!(seconds("2026"), seconds("2026-01-01"));
        assert_eq!(seconds("1798761600"), Some(1_798_761_600));
        assert_eq!(seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(seconds("1969-12-31T23:59:59Z"), Some(-1));
    }

    #[test]
    fn fractional_seconds_keep_order() {
        let earlier = parse_date("2026-12-04T12:00:00.25Z").unwrap();
        let later = parse_date("2026-12-04T12:00:00.5Z").unwrap();
        assert_eq!(earlier.nanos, 250_000_000);
        assert!(earlier < later);
    }

    #[test]
    fn invalid_dates_are_rejected() {
        for text in ["", "2026-13-01", "2026-02-30", "2026-12-04T25:00Z", "2026-12-04T12:00", "12/04/2026", "2026-12-04T12:00:00.Z", "2026-1-01"] {
            assert_eq!(parse_date(text), None, "{text:?} parsed");
        }
    }

    #[test]
    fn ip_networks_contain_addresses() {
        let v4 = IpNetwork::parse("203.0.113.0/24").unwrap();
        assert!(v4.contains("203.0.113.7".parse().unwrap()));
        assert!(!v4.contains("203.0.114.7".parse().unwrap()));

        let v6 = IpNetwork::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:85a3::8a2e:370:7334".parse().unwrap()));
        assert!(!v6.contains("203.0.113.7".parse().unwrap()));

        let bare = IpNetwork::parse("2001:db8::1").unwrap();
        assert!(bare.contains("2001:db8::1".parse().unwrap()));
        assert!(!bare.contains("2001:db8::2".parse().unwrap()));

        assert!(IpNetwork::parse("0.0.0.0/0").unwrap().contains("198.51.100.9".parse().unwrap()));
        assert_eq!(IpNetwork::parse("203.0.113.0/33"), None);
        assert_eq!(IpNetwork::parse("203.0.113.0/"), None);
    }

    #[test]
    fn base64_decodes_with_padding() {
        assert_eq!(decode_base64("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(decode_base64("aGVsbG8"), Some(b"hello".to_vec()));
        assert_eq!(decode_base64("a"), None);
        assert_eq!(decode_base64("aGVsbG9="), None);
        assert_eq!(decode_base64("a*b="), None);
    }
}
