//! Money as whole micro-dollars, so sums of prices like $0.0416/hr stay exact; cents are only a
//! matter of display and of rounding each line once.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A parse failure of a decimal dollar amount (a price book entry).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a dollar amount with at most 6 decimals")]
pub struct MoneyError {
    pub text: String,
}

/// US dollars, held as micro-dollars. Serialised as a JSON number of dollars, which is exact for
/// any amount that fits in 15 significant digits — far above any monthly bill.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Usd(i64);

const MICROS: i64 = 1_000_000;
const CENT: i64 = 10_000;

impl Usd {
    pub const ZERO: Usd = Usd(0);

    pub const fn from_micros(micros: i64) -> Usd {
        Usd(micros)
    }

    pub const fn micros(self) -> i64 {
        self.0
    }

    /// Whole dollars (budgets, tests).
    pub const fn dollars(dollars: i64) -> Usd {
        Usd(dollars * MICROS)
    }

    /// Parses `"0.0416"` exactly; no binary floating point on the way.
    pub fn parse(text: &str) -> Result<Usd, MoneyError> {
        let err = || MoneyError {
            text: text.to_string(),
        };
        let trimmed = text.trim();
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > 6 {
            return Err(err());
        }
        let whole: i64 = whole.parse().map_err(|_| err())?;
        let fraction: i64 = if fraction.is_empty() {
            0
        } else {
            format!("{fraction:0<6}").parse().map_err(|_| err())?
        };
        let micros = whole
            .checked_mul(MICROS)
            .and_then(|w| w.checked_add(fraction))
            .ok_or_else(err)?;
        Ok(Usd(if negative { -micros } else { micros }))
    }

    /// `self × factor`, saturating: a template cannot make the total wrap around.
    pub fn times(self, factor: u64) -> Usd {
        let factor = i64::try_from(factor).unwrap_or(i64::MAX);
        Usd(self.0.saturating_mul(factor))
    }

    /// `self × numerator / denominator`, rounded half away from zero.
    pub fn scaled(self, numerator: u64, denominator: u64) -> Usd {
        if denominator == 0 {
            return Usd::ZERO;
        }
        let product = i128::from(self.0) * i128::from(numerator);
        let denominator = i128::from(denominator);
        let half = denominator / 2;
        let rounded = if product >= 0 {
            (product + half) / denominator
        } else {
            (product - half) / denominator
        };
        Usd(i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN }))
    }

    /// Rounded to whole cents, half away from zero — each line is rounded once, and totals are
    /// sums of rounded lines, so the printed lines always add up to the printed total.
    pub fn to_cents(self) -> Usd {
        self.scaled(1, CENT as u64).times(CENT as u64)
    }

    pub fn saturating_add(self, other: Usd) -> Usd {
        Usd(self.0.saturating_add(other.0))
    }

    pub fn saturating_sub(self, other: Usd) -> Usd {
        Usd(self.0.saturating_sub(other.0))
    }
}

impl std::iter::Sum for Usd {
    fn sum<I: Iterator<Item = Usd>>(iter: I) -> Usd {
        iter.fold(Usd::ZERO, Usd::saturating_add)
    }
}

/// `$98.55`, `$0.0416`, `-$3.00`: at least two decimals, more only when the amount has them.
impl fmt::Display for Usd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / MICROS as u64;
        let fraction = format!("{:06}", abs % MICROS as u64);
        let fraction = fraction.trim_end_matches('0');
        let fraction = format!("{fraction:0<2}");
        write!(f, "{sign}${}.{fraction}", group_thousands(whole))
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .filter_map(|chunk| std::str::from_utf8(chunk).ok())
        .collect();
    groups.join(",")
}

impl Serialize for Usd {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Dividing an exact integer by 10^6 gives the double nearest the decimal amount, which
        // serde_json prints in its shortest form ("98.55", not "98.5499999").
        serializer.serialize_f64(self.0 as f64 / MICROS as f64)
    }
}

impl<'de> Deserialize<'de> for Usd {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Usd, D::Error> {
        let dollars = f64::deserialize(deserializer)?;
        if !dollars.is_finite() || dollars.abs() > 9.0e12 {
            return Err(serde::de::Error::custom(format!(
                "{dollars} is not a dollar amount"
            )));
        }
        Ok(Usd((dollars * MICROS as f64).round() as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimal_prices_exactly() {
        assert_eq!(Usd::parse("0.0416"), Ok(Usd::from_micros(41_600)));
        assert_eq!(Usd::parse("1"), Ok(Usd::dollars(1)));
        assert_eq!(Usd::parse("0.000001"), Ok(Usd::from_micros(1)));
        assert!(Usd::parse("0.0000001").is_err());
        assert!(Usd::parse("$1").is_err());
        assert!(Usd::parse("").is_err());
        assert!(Usd::parse(".5").is_err());
    }

    #[test]
    fn displays_cents_or_more_precision() {
        assert_eq!(Usd::parse("98.55").unwrap().to_string(), "$98.55");
        assert_eq!(Usd::parse("0.0416").unwrap().to_string(), "$0.0416");
        assert_eq!(Usd::dollars(1).to_string(), "$1.00");
        assert_eq!(Usd::dollars(-3).to_string(), "-$3.00");
        assert_eq!(Usd::dollars(1_234_567).to_string(), "$1,234,567.00");
    }

    #[test]
    fn rounds_to_cents_half_away_from_zero() {
        assert_eq!(
            Usd::from_micros(30_368_000).to_cents(),
            Usd::from_micros(30_370_000)
        );
        assert_eq!(Usd::from_micros(5_000).to_cents(), Usd::from_micros(10_000));
        assert_eq!(
            Usd::from_micros(-5_000).to_cents(),
            Usd::from_micros(-10_000)
        );
        assert_eq!(Usd::from_micros(4_999).to_cents(), Usd::ZERO);
    }

    #[test]
    fn many_small_prices_sum_without_drift() {
        // 0.1 added ten thousand times in f64 is 1000.0000000001588; in micro-dollars it is exact.
        let total: Usd = std::iter::repeat_n(Usd::parse("0.1").unwrap(), 10_000).sum();
        assert_eq!(total, Usd::dollars(1_000));
    }

    #[test]
    fn json_round_trip_is_exact() {
        let price = Usd::parse("98.55").unwrap();
        let json = serde_json::to_string(&price).unwrap();
        assert_eq!(json, "98.55");
        assert_eq!(serde_json::from_str::<Usd>(&json).unwrap(), price);
    }
}
