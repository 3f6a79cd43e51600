//! Power profiles for `plan renewable`: a site's renewable supply or other load as kW on a fixed
//! step, read from a `timestamp,kw` CSV (every bad row named by its line) or taken from the
//! shipped Energinet day-ahead wind and solar forecasts scaled to a stated peak.

use super::RenewError;
use crate::grid::shipped::{DK_RENEWABLES, DK_RENEWABLES_ATTRIBUTION};
use jiff::{SignedDuration, Timestamp};

/// kW on a fixed step: value `i` holds over `[start + i step, start + (i + 1) step)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// Where the values come from (a file, or a shipped name with its attribution).
    pub origin: String,
    /// The first value's start (UTC).
    pub start: Timestamp,
    /// The step between values (whole seconds, positive).
    pub step: SignedDuration,
    /// kW per step, each finite and non-negative.
    pub kw: Vec<f64>,
}

impl Profile {
    /// The end of the last step.
    #[must_use]
    pub fn end(&self) -> Timestamp {
        let n = i64::try_from(self.kw.len()).unwrap_or(i64::MAX);
        self.start + SignedDuration::from_secs(self.step.as_secs().saturating_mul(n))
    }

    /// The value over `[t, t + dt)` when that span lies inside one step (the caller's cells
    /// always do), or `None` outside the profile.
    #[must_use]
    pub fn at(&self, t: Timestamp) -> Option<f64> {
        let off = t.duration_since(self.start).as_secs();
        if off < 0 {
            return None;
        }
        let i = usize::try_from(off / self.step.as_secs()).ok()?;
        self.kw.get(i).copied()
    }
}

/// Reads a `timestamp,kw` CSV: a header naming those two columns (ASCII case ignored), then one
/// row per step, times in RFC 3339 with an offset, strictly increasing on a fixed step, values
/// finite kW >= 0.
///
/// # Errors
/// [`RenewError::Line`] naming `origin` and the line (1-based, the header is line 1): a missing
/// column, a time that does not parse, a duplicate or unsorted time, a step different from the
/// first, an empty, non-numeric, negative or infinite value; [`RenewError::File`] for a file
/// without two rows.
pub fn parse_profile(text: &[u8], origin: &str) -> Result<Profile, RenewError> {
    let line_err = |line: u64, why: String| RenewError::Line {
        origin: origin.into(),
        line,
        why,
    };
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(RenewError::File {
            origin: origin.into(),
            why: "the file is empty; give the header timestamp,kw and at least two rows".into(),
        });
    }
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text);
    let header = r
        .headers()
        .map_err(|e| line_err(1, format!("cannot read the header: {e}")))?
        .clone();
    let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(tc), Some(kc)) = (col("timestamp"), col("kw")) else {
        return Err(line_err(
            1,
            format!(
                "the header must name the columns timestamp,kw (it has {})",
                header.iter().collect::<Vec<_>>().join(",")
            ),
        ));
    };
    let mut times: Vec<(u64, Timestamp)> = Vec::new();
    let mut kw = Vec::new();
    for row in r.records() {
        let row = row.map_err(|e| RenewError::File {
            origin: origin.into(),
            why: format!("not valid CSV: {e}"),
        })?;
        let line = row.position().map_or(0, csv::Position::line);
        let cell = |i: usize| row.get(i).unwrap_or("");
        let t: Timestamp = cell(tc).parse().map_err(|_| {
            line_err(
                line,
                format!(
                    "timestamp {:?} is not an RFC 3339 time with an offset (e.g. \
                     2024-03-04T00:00:00Z)",
                    cell(tc)
                ),
            )
        })?;
        let v = cell(kc);
        if v.is_empty() {
            return Err(line_err(line, "the kw cell is empty; give a number".into()));
        }
        let x: f64 = v.parse().map_err(|_| {
            line_err(
                line,
                format!("kw {v:?} is not a number (give kW without a unit)"),
            )
        })?;
        if !x.is_finite() || x < 0.0 {
            return Err(line_err(
                line,
                format!("kw {v} must be a finite number >= 0"),
            ));
        }
        if let Some(&(pl, pt)) = times.last() {
            if t == pt {
                return Err(line_err(
                    line,
                    format!("duplicate timestamp {t} (also on line {pl}); keep one row per time"),
                ));
            }
            if t < pt {
                return Err(line_err(
                    line,
                    format!("timestamp {t} is before line {pl}'s ({pt}); sort the file by time"),
                ));
            }
        }
        times.push((line, t));
        kw.push(x);
    }
    if times.len() < 2 {
        return Err(RenewError::File {
            origin: origin.into(),
            why: "needs a header and at least two rows (the second gives the step)".into(),
        });
    }
    let step = times[1].1.duration_since(times[0].1);
    if step.subsec_nanos() != 0 {
        return Err(line_err(
            times[1].0,
            format!("the step ({step}) is not a whole number of seconds"),
        ));
    }
    for w in times.windows(2) {
        let d = w[1].1.duration_since(w[0].1);
        if d != step {
            return Err(line_err(
                w[1].0,
                format!(
                    "{} after the previous row, but the file's step is {} (lines {}-{}); give \
                     a fixed step, without missing rows (resample the file)",
                    super::super::shown_duration(d),
                    super::super::shown_duration(step),
                    times[0].0,
                    times[1].0
                ),
            ));
        }
    }
    Ok(Profile {
        origin: origin.into(),
        start: times[0].1,
        step,
        kw,
    })
}

/// A renewable forecast shipped with wattlens: Energinet's day-ahead forecast of a price
/// area's production, summed over some columns.
#[derive(Debug)]
#[non_exhaustive]
pub struct ShippedSupply {
    /// The name given to `--supply` (`dk1-wind-2024`).
    pub name: &'static str,
    /// What it is.
    pub about: &'static str,
    /// The columns of the shipped file summed (MWh per hour = average MW).
    pub columns: &'static [&'static str],
}

/// Every shipped supply.
pub const SHIPPED_SUPPLY: &[ShippedSupply] = &[
    ShippedSupply {
        name: "dk1-wind-2024",
        about: "Denmark West (DK1), offshore + onshore wind, 2024, hourly day-ahead forecast",
        columns: &["dk1_offshore_wind_mwh", "dk1_onshore_wind_mwh"],
    },
    ShippedSupply {
        name: "dk1-solar-2024",
        about: "Denmark West (DK1), solar, 2024, hourly day-ahead forecast",
        columns: &["dk1_solar_mwh"],
    },
    ShippedSupply {
        name: "dk2-wind-2024",
        about: "Denmark East (DK2), offshore + onshore wind, 2024, hourly day-ahead forecast",
        columns: &["dk2_offshore_wind_mwh", "dk2_onshore_wind_mwh"],
    },
    ShippedSupply {
        name: "dk2-solar-2024",
        about: "Denmark East (DK2), solar, 2024, hourly day-ahead forecast",
        columns: &["dk2_solar_mwh"],
    },
];

/// The shipped supply named `name` (ASCII case ignored).
#[must_use]
pub fn shipped_supply(name: &str) -> Option<&'static ShippedSupply> {
    SHIPPED_SUPPLY
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name.trim()))
}

/// The shipped supply names, comma-separated, for messages.
#[must_use]
pub fn shipped_supply_names() -> String {
    SHIPPED_SUPPLY
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl ShippedSupply {
    /// The forecast scaled so that its peak hour of 2024 gives `peak_kw`: `kW_t = peak_kw x
    /// MW_t / max MW`. An hour with an empty cell in a summed column counts as no supply (the
    /// count is returned, for a note): the plan then never relies on a value the data lacks.
    ///
    /// # Errors
    /// [`RenewError::Invalid`] for a peak that is negative or not finite.
    pub fn profile(&self, peak_kw: f64) -> Result<(Profile, usize), RenewError> {
        if !(peak_kw.is_finite() && peak_kw >= 0.0) {
            return Err(RenewError::Invalid(format!(
                "capacity {peak_kw} kW must be a finite number >= 0"
            )));
        }
        let shipped_err = |why: String| RenewError::File {
            origin: self.name.into(),
            why,
        };
        let mut r = csv::ReaderBuilder::new().from_reader(DK_RENEWABLES.as_bytes());
        let header = r.headers().map_err(|e| shipped_err(e.to_string()))?.clone();
        let idx: Vec<usize> = self
            .columns
            .iter()
            .filter_map(|c| header.iter().position(|h| h == *c))
            .collect();
        if idx.len() != self.columns.len() {
            return Err(shipped_err(
                "a column is missing from the shipped file".into(),
            ));
        }
        let mut start = None;
        let mut mw = Vec::with_capacity(8784);
        let mut missing = 0;
        for row in r.records() {
            let row = row.map_err(|e| shipped_err(e.to_string()))?;
            if start.is_none() {
                start = Some(
                    row.get(0)
                        .unwrap_or("")
                        .parse::<Timestamp>()
                        .map_err(|e| shipped_err(e.to_string()))?,
                );
            }
            let mut sum = 0.0;
            let mut gap = false;
            for &i in &idx {
                match row.get(i).unwrap_or("").parse::<f64>() {
                    Ok(v) => sum += v,
                    Err(_) => gap = true,
                }
            }
            if gap {
                missing += 1;
                sum = 0.0;
            }
            mw.push(sum);
        }
        let peak = mw.iter().copied().fold(0.0_f64, f64::max);
        let kw = mw
            .iter()
            .map(|v| if peak > 0.0 { peak_kw * v / peak } else { 0.0 })
            .collect();
        let origin = format!(
            "{} scaled to a {peak_kw} kW peak ({}; {DK_RENEWABLES_ATTRIBUTION})",
            self.name, self.about
        );
        Ok((
            Profile {
                origin,
                start: start.ok_or_else(|| shipped_err("no rows".into()))?,
                step: SignedDuration::from_hours(1),
                kw,
            },
            missing,
        ))
    }
}
