//! Data sizes and rates with their units (`--data 50TB`, `--bandwidth 10Gbit/s`,
//! `--checkpoint-size 2.4TB`, `--storage-bandwidth 1TB/s`), read where case carries meaning:
//! `B` is a byte and `bit` (or `b` after an upper-case prefix, or `bps`) a bit, as in SI and IEC
//! 80000-13; prefixes k/K, M, G, T, P, E are decimal and Ki, Mi, Gi, Ti, Pi, Ei binary.
//! A unit written all in lower case (`50tb`, `10gb/s`) could mean either, so it is refused with
//! both readings, never guessed: a link read in bytes instead of bits is 8x off.

use anyhow::{bail, Context, Result};
use wattlens::input::Dim;
use wattlens::uncertainty::{fmt_input, Range};

/// What a flag measures: a size (GB) or a rate, and the unit of a bare number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Quantity {
    /// A size; values come back in GB (10^9 bytes).
    Size,
    /// A rate whose bare numbers are GB/s; values come back in GB/s.
    BytesPerSecond,
    /// A rate whose bare numbers are Gbit/s; values come back in Gbit/s.
    BitsPerSecond,
}

/// A number or range (`50TB`, `2..3TB`, `2TB..3TB`) of `q`, in `q`'s unit.
///
/// # Errors
/// A unit that is not one of `q`'s, a lower-case unit that could mean bytes or bits, a size in
/// bits, or a number that does not parse; each names the flag.
pub fn parse(flag: &str, text: &str, q: Quantity) -> Result<Range> {
    let text = text.trim();
    let (lo, hi) = match text.split_once("..") {
        Some((a, b)) => (a.trim(), b.trim()),
        None => (text, text),
    };
    let (lo_n, lo_u) = split_unit(lo);
    let (hi_n, hi_u) = split_unit(hi);
    // `2..3TB`: the first end takes the second's unit.
    let lo_u = if lo_u.is_empty() { hi_u } else { lo_u };
    let k_lo = scale(flag, text, lo_u, q)?;
    let k_hi = scale(flag, text, hi_u, q)?;
    let number = |n: &str| {
        wattlens::parse_range(n, Dim::Count)
            .with_context(|| format!("invalid value for {flag}: {text:?}"))
    };
    let (a, b) = (number(lo_n)?.lo * k_lo, number(hi_n)?.lo * k_hi);
    if !(a.is_finite() && b.is_finite()) {
        bail!("invalid value for {flag}: {text:?} is not a finite number");
    }
    if a > b {
        bail!(
            "invalid value for {flag}: the range {text:?} runs backwards ({} > {}); give LOW..HIGH",
            fmt_input(a),
            fmt_input(b)
        );
    }
    Ok(Range::new(a, b))
}

/// The number and the unit of one end: the unit starts at the first letter that is not a
/// scientific exponent (`1e9`, `2.5E-3`).
fn split_unit(s: &str) -> (&str, &str) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphabetic() || c == b'/' {
            let exponent = (c == b'e' || c == b'E')
                && i > 0
                && b[i - 1].is_ascii_digit()
                && b.get(i + 1)
                    .is_some_and(|n| n.is_ascii_digit() || *n == b'-' || *n == b'+');
            if !exponent {
                break;
            }
        }
        i += 1;
    }
    (s[..i].trim(), s[i..].trim())
}

/// The factor from `unit` to `q`'s unit.
fn scale(flag: &str, text: &str, unit: &str, q: Quantity) -> Result<f64> {
    if unit.is_empty() {
        return Ok(1.0);
    }
    let expected = match q {
        Quantity::Size => "a size such as 50TB, 800GB, 2TiB",
        Quantity::BytesPerSecond => "a rate such as 100GB/s, 1TB/s, 400Gbit/s",
        Quantity::BitsPerSecond => "a rate such as 10Gbit/s, 100Gbps, 1.25GB/s",
    };
    let bad = || {
        anyhow::anyhow!(
            "invalid value for {flag}: {text:?}: unknown unit {unit:?}; give {expected}"
        )
    };
    let (body, per_second) = match unit.strip_suffix("/s").or_else(|| unit.strip_suffix("ps")) {
        Some(b) => (b, true),
        None => (unit, false),
    };
    if per_second != (q != Quantity::Size) {
        return Err(bad());
    }
    // Bits: `bit`, `b` after an upper-case prefix, or the `bps` convention (`gbps` too).
    let (prefix, bits) = if let Some(p) = body.strip_suffix("bit") {
        (p, true)
    } else if let Some(p) = body.strip_suffix('B') {
        (p, false)
    } else if let Some(p) = body.strip_suffix('b') {
        let lower = p.chars().all(|c| c.is_ascii_lowercase());
        let bps = unit.ends_with("ps");
        if lower && !p.is_empty() && !bps {
            let upper = p.to_ascii_uppercase();
            let upper = if upper == "K" { "k".to_string() } else { upper };
            let s = if per_second { "/s" } else { "" };
            bail!(
                "invalid value for {flag}: {text:?}: {unit:?} could mean bytes or bits; write \
                 {upper}B{s} for bytes or {upper}bit{s} for bits"
            );
        }
        (p, true)
    } else {
        return Err(bad());
    };
    let k = match prefix.to_ascii_lowercase().as_str() {
        "" => 1.0,
        "k" => 1e3,
        "m" if prefix == "M" || unit.ends_with("ps") => 1e6,
        "g" => 1e9,
        "t" => 1e12,
        "p" => 1e15,
        "e" => 1e18,
        "ki" => 1024.0,
        "mi" => 1024f64.powi(2),
        "gi" => 1024f64.powi(3),
        "ti" => 1024f64.powi(4),
        "pi" => 1024f64.powi(5),
        "ei" => 1024f64.powi(6),
        _ => return Err(bad()),
    };
    let bytes = if bits { k / 8.0 } else { k };
    match q {
        Quantity::Size if bits => bail!(
            "invalid value for {flag}: {text:?} is in bits; sizes are given in bytes (write \
             {}B, or divide a size in bits by 8)",
            prefix.to_ascii_uppercase()
        ),
        Quantity::Size | Quantity::BytesPerSecond => Ok(bytes / 1e9),
        Quantity::BitsPerSecond => Ok(bytes * 8.0 / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, q: Quantity) -> (f64, f64) {
        let r = parse("--x", text, q).unwrap_or_else(|e| panic!("{text}: {e:#}"));
        (r.lo, r.hi)
    }
    fn err(text: &str, q: Quantity) -> String {
        format!("{:#}", parse("--x", text, q).expect_err(text))
    }

    #[test]
    fn sizes_in_gb() {
        use Quantity::Size;
        assert_eq!(ok("50TB", Size), (5e4, 5e4));
        assert_eq!(ok("2400", Size), (2400.0, 2400.0));
        assert_eq!(ok("1PB", Size), (1e6, 1e6));
        assert_eq!(ok("1EB", Size), (1e9, 1e9));
        assert_eq!(ok("800 MB", Size), (0.8, 0.8));
        assert_eq!(ok("1.5e3GB", Size), (1500.0, 1500.0));
        // 2 TiB = 2 x 1024^4 bytes = 2,199.02 GB.
        let (a, _) = ok("2TiB", Size);
        assert!((a - 2_199.023_255_552).abs() < 1e-9);
        assert_eq!(ok("2..3TB", Size), (2e3, 3e3));
        assert_eq!(ok("2TB..3TB", Size), (2e3, 3e3));
        assert_eq!(ok("500GB..1TB", Size), (500.0, 1e3));
    }

    #[test]
    fn rates_in_bits_and_bytes() {
        use Quantity::{BitsPerSecond as Bit, BytesPerSecond as Byte};
        assert_eq!(ok("10Gbit/s", Bit), (10.0, 10.0));
        assert_eq!(ok("10Gbps", Bit), (10.0, 10.0));
        assert_eq!(ok("10gbps", Bit), (10.0, 10.0));
        // 10 Gb/s is ten gigabits (lower-case b); 10 GB/s is 80 Gbit/s.
        assert_eq!(ok("10Gb/s", Bit), (10.0, 10.0));
        assert_eq!(ok("10GB/s", Bit), (80.0, 80.0));
        assert_eq!(ok("400Mbit/s", Bit), (0.4, 0.4));
        assert_eq!(ok("100", Byte), (100.0, 100.0));
        assert_eq!(ok("1TB/s", Byte), (1e3, 1e3));
        assert_eq!(ok("400Gbit/s", Byte), (50.0, 50.0));
        assert_eq!(ok("100GBps", Byte), (100.0, 100.0));
    }

    #[test]
    fn ambiguous_wrong_and_backwards_units_are_refused() {
        use Quantity::{BitsPerSecond as Bit, BytesPerSecond as Byte, Size};
        let e = err("50tb", Size);
        assert!(
            e.contains("could mean bytes or bits; write TB for bytes or Tbit for bits"),
            "{e}"
        );
        let e = err("10gb/s", Bit);
        assert!(e.contains("write GB/s for bytes or Gbit/s for bits"), "{e}");
        let e = err("50Tb", Size);
        assert!(e.contains("is in bits; sizes are given in bytes"), "{e}");
        assert!(err("50TB/s", Size).contains("unknown unit \"TB/s\""));
        assert!(err("100GB", Byte).contains("unknown unit \"GB\""));
        assert!(err("5 furlongs", Size).contains("unknown unit"));
        assert!(err("3TB..2TB", Size).contains("runs backwards"));
        assert!(err("TB", Size).contains("invalid value for --x"));
        // "mb" is milli-bits or megabytes: refused.
        assert!(err("800mb", Size).contains("could mean bytes or bits"));
    }
}
