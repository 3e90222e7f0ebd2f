//! Seeds: every random choice of a run is drawn from one.

use std::fmt;
use std::str::FromStr;

/// The seed of one run: the same seed gives the same run, event for event.
/// Shown and typed as hexadecimal (`0x2a`); decimal (`42`) is read too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seed(pub u64);

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl FromStr for Seed {
    type Err = String;

    fn from_str(text: &str) -> Result<Seed, String> {
        let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => text.parse(),
        };
        parsed
            .map(Seed)
            .map_err(|_| format!("{text:?} is not a seed (a number like 42 or 0x2a)"))
    }
}

/// Mixes two numbers into one well-spread number (SplitMix64's finalizer):
/// the way a run derives the seed of each of its parts from its own.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_print_in_hex_and_read_both_ways() {
        assert_eq!(Seed(42).to_string(), "0x2a");
        assert_eq!("0x2a".parse(), Ok(Seed(42)));
        assert_eq!("42".parse(), Ok(Seed(42)));
        assert!("forty".parse::<Seed>().is_err());
        assert!("0x".parse::<Seed>().is_err());
    }

    #[test]
    fn mixing_spreads_neighbours() {
        assert_ne!(mix(1, 0), mix(2, 0));
        assert_ne!(mix(1, 2), mix(2, 1));
        assert_eq!(mix(7, 9), mix(7, 9));
    }
}
