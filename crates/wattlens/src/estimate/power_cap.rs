//! Power caps: what capping an accelerator's power to a fraction `c` of its board power (TDP)
//! does to run time and accelerator energy, from the measured points of the catalog's
//! `power-caps` table, as sourced curves for compute-bound work (training, prefill) and
//! memory-bound work (decode).
//!
//! - Between two measured caps the time and energy factors are interpolated linearly, each end of
//!   their ranges on its own: `f(c) = f(c0) + (f(c1) - f(c0)) x (c - c0) / (c1 - c0)`.
//! - Below a curve's lowest measured cap there is no curve: the cap is refused, not extrapolated.
//! - Each evaluation draws a time factor `T` and an energy factor `X`; the accelerator's power is
//!   multiplied by `X / T` and the work's time by `T`, so its energy by `X`. Host and rest of the
//!   server keep their power and run `T` times as long.
//! - The capped power never exceeds the cap itself, `c x board power` (a model whose uncapped
//!   draw is higher than the measured runs' would otherwise stay above it).
//! - A phase that is partly memory-bound (decode, with its activity `a` of [`super::infer`])
//!   takes `T = (1 - a) x T_mem + a x T_comp` and `X` likewise.

use crate::catalog::{Catalog, PowerCapPoint, Row};
use crate::estimate::EstimateError;
use crate::explain::{Assumption, Origin};
use crate::field::Field;
use crate::input::{parse_range, Dim, InputError};
use crate::uncertainty::{fmt_input, Draw, Range};

/// A cap as given: a share of board power (`70%`) or watts (`450W`).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum CapInput {
    /// A fraction of the accelerator's board power.
    Fraction(Range),
    /// Watts, converted with the accelerator's board power.
    Watts(Range),
}

impl CapInput {
    /// Reads `70%`, `0.7` (a share of board power) or `450W`, `0.45kW` (watts).
    ///
    /// # Errors
    /// Text that is neither a fraction nor a power.
    pub fn parse(text: &str) -> Result<Self, InputError> {
        let t = text.trim();
        if t.ends_with(['W', 'w']) {
            parse_range(t, Dim::Power).map(CapInput::Watts)
        } else {
            parse_range(t, Dim::Fraction).map(CapInput::Fraction)
        }
    }
}

/// The kind of work a curve was measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Class {
    /// Compute-bound: training, prefill, large-batch decode.
    Compute,
    /// Memory-bound: small-batch decode.
    Memory,
}

impl Class {
    /// The `class` column's value.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Class::Compute => "compute",
            Class::Memory => "memory",
        }
    }
}

/// Time and energy factors at one cap, as ranges.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Factors {
    /// Run time under the cap / uncapped run time (at least 1).
    pub time: Range,
    /// Accelerator energy under the cap / uncapped energy.
    pub energy: Range,
}

/// One draw of [`Factors`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Drawn {
    /// Time factor `T`.
    pub time: f64,
    /// Energy factor `X`.
    pub energy: f64,
}

impl Drawn {
    /// No cap.
    pub const NONE: Drawn = Drawn {
        time: 1.0,
        energy: 1.0,
    };
    /// Accelerator power factor `X / T`.
    #[must_use]
    pub fn power(&self) -> f64 {
        self.energy / self.time
    }
    /// `(1 - a) x memory + a x compute`, for a phase busy a share `a` of its time.
    #[must_use]
    pub fn blend(memory: Drawn, compute: Drawn, a: f64) -> Drawn {
        let a = a.clamp(0.0, 1.0);
        Drawn {
            time: (1.0 - a) * memory.time + a * compute.time,
            energy: (1.0 - a) * memory.energy + a * compute.energy,
        }
    }
}

impl Factors {
    /// Draws `T` then `X`.
    pub fn draw(&self, d: &mut Draw) -> Drawn {
        let time = d.value(&self.time);
        let energy = d.value(&self.energy);
        Drawn { time, energy }
    }
}

/// A resolved cap: its fraction of board power and the factors of the curves the model uses.
#[derive(Clone, Debug, PartialEq)]
pub struct PowerCap {
    /// The cap as a fraction of board power.
    pub fraction: f64,
    /// Factors of compute-bound work.
    pub compute: Factors,
    /// Factors of memory-bound work (inference only).
    pub memory: Option<Factors>,
    /// The cap in watts, where the board power is known.
    pub watts: Option<f64>,
    /// The curves used, their factors and sources, for the output's note.
    pub curves: Vec<String>,
}

impl PowerCap {
    /// A note for the default output: the cap and the curves it reads, with their sources.
    #[must_use]
    pub fn note(&self) -> String {
        format!(
            "{{power_cap}} {}% of board power{}: {}",
            fmt_input(self.fraction * 100.0),
            self.watts
                .map_or(String::new(), |w| format!(" ({} W)", fmt_input(w))),
            self.curves.join("; ")
        )
    }

    /// A capped accelerator power: `P x X / T`, at most the cap in watts.
    #[must_use]
    pub fn apply(&self, p: f64, k: Drawn) -> f64 {
        let capped = p * k.power();
        self.watts.map_or(capped, |w| capped.min(w))
    }
}

/// `a + (b - a) x w`.
fn lerp(a: f64, b: f64, w: f64) -> f64 {
    a + (b - a) * w
}

/// The factors of `class` at `cap`, interpolated between the measured points around it, and
/// the points used; `Err(lowest)` below the lowest measured cap.
///
/// # Errors
/// The lowest measured cap when `cap` is below it (or the curve has no points).
pub fn at<'a>(
    points: &[&'a PowerCapPoint],
    cap: f64,
) -> Result<(Factors, Vec<&'a PowerCapPoint>), f64> {
    let mut p: Vec<&PowerCapPoint> = points.to_vec();
    p.sort_by(|a, b| a.cap_fraction.total_cmp(&b.cap_fraction));
    let lowest = p.first().map_or(f64::INFINITY, |x| x.cap_fraction);
    if cap < lowest - 1e-12 {
        return Err(lowest);
    }
    if let Some(hit) = p.iter().find(|x| (x.cap_fraction - cap).abs() < 1e-12) {
        let f = Factors {
            time: hit.time(),
            energy: hit.energy(),
        };
        return Ok((f, vec![*hit]));
    }
    for w in p.windows(2) {
        let (a, b) = (w[0], w[1]);
        if cap <= b.cap_fraction + 1e-12 {
            let t = ((cap - a.cap_fraction) / (b.cap_fraction - a.cap_fraction)).clamp(0.0, 1.0);
            let r = |x: Range, y: Range| Range::new(lerp(x.lo, y.lo, t), lerp(x.hi, y.hi, t));
            let f = Factors {
                time: r(a.time(), b.time()),
                energy: r(a.energy(), b.energy()),
            };
            return Ok((f, vec![a, b]));
        }
    }
    // At or above the highest point (a single-point curve, or the cap at 100%).
    let last = *p.last().ok_or(lowest)?;
    Ok((
        Factors {
            time: last.time(),
            energy: last.energy(),
        },
        vec![last],
    ))
}

/// `shown` (a rounded `v`), or `v` with as many decimals as it takes to read above `limit` when
/// rounding made it read as `limit` or less (`100.1`, not `100`, for 701 W of 700 W).
fn above(v: f64, limit: f64, shown: String) -> String {
    if v <= limit
        || shown
            .replace(',', "")
            .parse::<f64>()
            .is_ok_and(|x| x > limit)
    {
        return shown;
    }
    for d in 1..=12 {
        let s = format!("{v:.d$}");
        if s.parse::<f64>().is_ok_and(|x| x > limit) {
            return s.trim_end_matches('0').to_string();
        }
    }
    format!("{v}")
}

/// Resolves a given cap against the board power and the curves of `classes` (compute first),
/// recording the cap and each curve's factors with their sources.
///
/// # Errors
/// A cap that is a range, not above zero, above board power, in watts without a board power,
/// or below a curve's lowest measured point.
pub fn resolve(
    cat: &Catalog,
    given: Option<CapInput>,
    board_w: Option<f64>,
    memory_too: bool,
    out: &mut Vec<Assumption>,
) -> Result<Option<PowerCap>, EstimateError> {
    let Some(given) = given else {
        return Ok(None);
    };
    let invalid = |m: String| EstimateError::Invalid {
        field: Field::PowerCap,
        message: m.into(),
    };
    let (r, watts) = match given {
        CapInput::Fraction(r) => (r, false),
        CapInput::Watts(r) => (r, true),
    };
    if !r.is_point() {
        return Err(invalid(
            "a power cap is one setting, not a range: give one value (e.g. 70% or 450W)".into(),
        ));
    }
    let fraction = if watts {
        let board = board_w.ok_or_else(|| EstimateError::Missing(
            "{power_cap} in watts needs the accelerator's board power: name the accelerator with {gpu}, or give the cap as a share of board power (e.g. 70%)".into(),
        ))?;
        r.lo / board
    } else {
        r.lo
    };
    let board_text = board_w.map_or(String::new(), |b| {
        format!(
            " ({} W of {} W)",
            above(fraction * b, b, fmt_input(fraction * b)),
            fmt_input(b)
        )
    });
    if fraction <= 0.0 || !fraction.is_finite() {
        return Err(invalid(format!(
            "must be above zero, got {}",
            fmt_input(r.lo)
        )));
    }
    if fraction > 1.0 + 1e-9 {
        return Err(invalid(format!(
            "{}% of board power{board_text} is above the board power: a cap only lowers power; give at most 100%",
            above(fraction * 100.0, 100.0, fmt_input(fraction * 100.0))
        )));
    }
    out.push(Assumption::user(
        "power_cap",
        format!(
            "{}% of board power{board_text}",
            fmt_input(fraction * 100.0)
        ),
        Field::PowerCap,
    ));
    let rows = cat.power_caps()?.rows()?;
    let mut curves = Vec::new();
    let mut curve = |class: Class| -> Result<Factors, EstimateError> {
        let points: Vec<&PowerCapPoint> = rows
            .iter()
            .copied()
            .filter(|p| p.class == class.name())
            .collect();
        let (f, used) = at(&points, fraction).map_err(|lowest| {
            let src = points
                .iter()
                .find(|p| (p.cap_fraction - lowest).abs() < 1e-12)
                .map_or(String::new(), |p| format!(", {}", p.cite()));
            invalid(format!(
                "{}% of board power is below the lowest measured cap of the {}-bound curve ({}%{src}); the curve is not extrapolated: give at least {}%",
                fmt_input(fraction * 100.0),
                class.name(),
                fmt_input(lowest * 100.0),
                fmt_input(lowest * 100.0)
            ))
        })?;
        let how = match used.as_slice() {
            [a, b] => format!("interpolated linearly between {} and {}", a.name, b.name),
            _ => format!("the measured point {}", used[0].name),
        };
        let cites: Vec<String> = used
            .iter()
            .filter(|p| p.confidence.as_deref() != Some("definition"))
            .map(|p| p.cite())
            .collect();
        let cites = if cites.is_empty() {
            vec!["no cap: the uncapped run".to_string()]
        } else {
            cites
        };
        curves.push(format!(
            "{}-bound curve, {how}: time x{}, accelerator energy x{} ({})",
            class.name(),
            f.time.display(""),
            f.energy.display(""),
            cites.join("; ")
        ));
        out.push(Assumption {
            name: format!("power_cap_{}", class.name()),
            value: format!(
                "time x{}, accelerator energy x{}",
                f.time.display(""),
                f.energy.display("")
            ),
            origin: Origin::Catalog,
            source: Some(format!(
                "{}-bound power-cap curve, {how}: {}",
                class.name(),
                cites.join("; ")
            )),
            field: None,
        });
        Ok(f)
    };
    let compute = curve(Class::Compute)?;
    let memory = if memory_too {
        Some(curve(Class::Memory)?)
    } else {
        None
    };
    Ok(Some(PowerCap {
        fraction,
        compute,
        memory,
        watts: board_w.map(|b| fraction * b),
        curves,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(class: &str, cap: f64, t: (f64, f64), e: (f64, f64)) -> PowerCapPoint {
        PowerCapPoint {
            name: format!("{class}-{cap}"),
            aliases: None,
            class: class.into(),
            cap_fraction: cap,
            time_factor_low: t.0,
            time_factor_high: t.1,
            energy_factor_low: e.0,
            energy_factor_high: e.1,
            measured_on: None,
            confidence: None,
            source: Some("test".into()),
            year: None,
            notes: None,
        }
    }

    #[test]
    fn interpolates_each_end_linearly_and_refuses_below_the_lowest_point() {
        let (top, low) = (
            point("compute", 1.0, (1.0, 1.0), (1.0, 1.0)),
            point("compute", 0.6, (1.03, 1.07), (0.85, 0.88)),
        );
        let pts = [&top, &low];
        // 80% is halfway: time 1 + (1.03 - 1) x 0.5 = 1.015 .. 1 + 0.07 x 0.5 = 1.035;
        // energy 1 - 0.15 x 0.5 = 0.925 .. 1 - 0.12 x 0.5 = 0.94
        let (f, used) = at(&pts, 0.8).expect("inside");
        assert_eq!(used.len(), 2);
        assert!((f.time.lo - 1.015).abs() < 1e-12 && (f.time.hi - 1.035).abs() < 1e-12);
        assert!((f.energy.lo - 0.925).abs() < 1e-12 && (f.energy.hi - 0.94).abs() < 1e-12);
        // At a measured point, its own figures.
        let (f, _) = at(&pts, 0.6).expect("at");
        assert_eq!((f.time.lo, f.energy.hi), (1.03, 0.88));
        // 100%: no change.
        let (f, _) = at(&pts, 1.0).expect("top");
        assert_eq!((f.time.hi, f.energy.lo), (1.0, 1.0));
        // Below 60%: refused with the lowest point.
        assert_eq!(at(&pts, 0.5).expect_err("below"), 0.6);
    }

    #[test]
    fn power_factor_and_blend() {
        // 60% cap, central draw: T = 1.05, X = 0.865 -> P x 0.865 / 1.05 = 0.8238
        let d = Drawn {
            time: 1.05,
            energy: 0.865,
        };
        assert!((d.power() - 0.865 / 1.05).abs() < 1e-12);
        // a quarter busy: T = 0.75 x 1 + 0.25 x 1.05 = 1.0125; X = 0.75 + 0.25 x 0.865 = 0.96625
        let b = Drawn::blend(Drawn::NONE, d, 0.25);
        assert!((b.time - 1.0125).abs() < 1e-12 && (b.energy - 0.96625).abs() < 1e-12);
    }

    #[test]
    fn a_cap_just_above_board_power_reads_above_it() {
        // 701 W of 700 W: 100.142857% -> "100.1", not the rounded "100" that would contradict
        // "above the board power"; a value already distinct is left as it is.
        assert_eq!(
            above(
                701.0 / 700.0 * 100.0,
                100.0,
                fmt_input(701.0 / 700.0 * 100.0)
            ),
            "100.1"
        );
        assert_eq!(above(100.0001, 100.0, "100".into()), "100.0001");
        assert_eq!(above(150.0, 100.0, "150".into()), "150");
        assert_eq!(above(90.0, 100.0, "90".into()), "90");
    }

    #[test]
    fn parses_shares_and_watts() {
        match CapInput::parse("70%").expect("share") {
            CapInput::Fraction(r) => assert!((r.lo - 0.7).abs() < 1e-12 && r.is_point()),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            CapInput::parse("450W").expect("watts"),
            CapInput::Watts(Range::point(450.0))
        );
        assert_eq!(
            CapInput::parse("0.45kW").expect("kilowatts"),
            CapInput::Watts(Range::point(450.0))
        );
    }

    #[test]
    fn resolves_watts_against_board_power_and_refuses_what_is_unmeasured() {
        let cat = Catalog::embedded();
        let mut out = Vec::new();
        // 420 W of a 700 W board = 60%: the measured point.
        let c = resolve(
            &cat,
            Some(CapInput::Watts(Range::point(420.0))),
            Some(700.0),
            true,
            &mut out,
        )
        .expect("ok")
        .expect("a cap");
        assert!((c.fraction - 0.6).abs() < 1e-12);
        // The compute-bound point at 60% (Zeus's V100 sweep): energy x 0.74..0.87.
        assert_eq!(c.compute.energy, Range::new(0.74, 0.87));
        assert_eq!(c.memory.expect("memory").time, Range::point(1.0));
        let err = |g, b| resolve(&cat, Some(g), b, true, &mut Vec::new()).expect_err("refused");
        let low = err(CapInput::Fraction(Range::point(0.3)), Some(700.0)).to_string();
        assert!(
            low.contains("below the lowest measured cap") && low.contains("40%"),
            "{low}"
        );
        let high = err(CapInput::Watts(Range::point(800.0)), Some(700.0)).to_string();
        assert!(high.contains("above the board power"), "{high}");
        let no_board = err(CapInput::Watts(Range::point(400.0)), None).to_string();
        assert!(no_board.contains("board power"), "{no_board}");
    }
}
