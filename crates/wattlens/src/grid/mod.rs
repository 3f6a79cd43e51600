//! Grid carbon intensity over time: series of UTC intervals in g/kWh, read from CSV, with gaps
//! filled or kept, resampled, and integrated against an energy profile.
//!
//! An annual figure multiplies total energy by one intensity; a series lets carbon follow the
//! grid hour by hour: `carbon = sum over bins b, intervals i of E_b x overlap(b, i) / len(b) x
//! CI_i` (constant power within a bin). A series placed at the work's start ([`PlacedSeries`]) is
//! what the accounting core takes from a site (`Site::series`): each evaluation's intensity is
//! the series over its own span, or a measured profile's energy-weighted mean; [`SeriesMean`]
//! says what the output shows of it, and every output says which basis was used
//! ([`CarbonBasis`]).
//!
//! - [`IntensitySeries`]: validated, strictly increasing, non-overlapping intervals, each
//!   flagged when its value was filled rather than read; an average or a marginal [`Signal`],
//!   never mixed.
//! - [`read_csv`] / [`parse_csv`]: the generic importer (`timestamp,g_per_kwh` point samples or
//!   `from,to,<value>` intervals; RFC 3339 with any offset, converted to UTC).
//! - [`IntensitySeries::fill_gaps`], [`IntensitySeries::resample`]: the gap and bin rules.
//! - [`IntensitySeries::carbon`] with [`EnergyBin`]: the integral.
//! - [`PlacedSeries`]: a series under work from its start, the time-weighted mean over any
//!   period from prefix integrals, or a measured profile's mean; [`SeriesMean`]: the integral
//!   as an energy-weighted mean, with the output's scope, step and note.
//!
//! All instants are [`jiff::Timestamp`] (UTC); local offsets exist only in the files read, so
//! daylight-saving changes cannot shift a bin.
//!
//! ```
//! use wattlens::grid::{parse_csv, CsvOptions, EnergyBin};
//! use wattlens::units::Watts;
//!
//! // Two hours at 100 g/kWh, then two at 300 (the last row holds for the median step, 1 h).
//! let csv = "timestamp,g_per_kwh\n\
//!            2024-03-04T01:00:00+01:00,100\n\
//!            2024-03-04T01:00:00Z,100\n\
//!            2024-03-04T02:00:00Z,300\n\
//!            2024-03-04T03:00:00Z,300\n";
//! let series = parse_csv(csv.as_bytes(), "s.csv", &CsvOptions::default())?;
//! // 1 kW for 4 h from 00:00Z: 2 kWh x 100 + 2 kWh x 300 = 800 g.
//! let bin = EnergyBin::constant_power(
//!     "2024-03-04T00:00:00Z".parse()?,
//!     jiff::SignedDuration::from_hours(4),
//!     Watts(1000.0),
//! );
//! let carbon = series.carbon(&[bin])?;
//! assert!((carbon.carbon.value() - 800.0).abs() < 1e-9);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod basis;
mod error;
mod import;
mod integrate;
mod placed;
mod series;
pub mod shipped;

pub use basis::{measured_profile, with_series_draws, SeriesMean};
pub use error::GridError;
pub use import::{
    parse_csv, parse_series, read_csv, read_series, CsvOptions, ImportOptions, SeriesFormat,
    DEFAULT_VALUE_COLUMN, KG_PER_LB, MAX_G_PER_KWH,
};
pub use integrate::{EnergyBin, SeriesCarbon};
pub use placed::{PlacedSeries, Shape};
pub use series::{IntensitySeries, Interval};

use serde::{Deserialize, Serialize};
use std::fmt;

/// What an intensity figure means: the two answer different questions and are never mixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Signal {
    /// The mean intensity of all generation (attributional accounting: "what share of the
    /// grid's emissions is mine").
    Average,
    /// The intensity of the generator that responds to a change in load (consequential: "what
    /// does adding or moving this load change").
    Marginal,
}

impl Signal {
    /// The lower-case name used in files and output (`average`, `marginal`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Signal::Average => "average",
            Signal::Marginal => "marginal",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which basis a carbon figure was computed on, as every output will say (`carbon_basis`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CarbonBasis {
    /// Total facility energy x one annual intensity.
    Annual,
    /// Facility energy integrated over time against an intensity series.
    Series,
}

impl fmt::Display for CarbonBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CarbonBasis::Annual => "annual",
            CarbonBasis::Series => "series",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_bases() {
        assert_eq!(Signal::Average.to_string(), "average");
        assert_eq!(Signal::Marginal.to_string(), "marginal");
        assert_eq!(
            serde_json::to_string(&Signal::Marginal).ok().as_deref(),
            Some("\"marginal\"")
        );
        assert_eq!(CarbonBasis::Series.to_string(), "series");
    }

    /// The first 50 lines of the NESO GB national file of 2023, byte for byte
    /// (`tests/fixtures/README.md` gives its source and licence).
    fn gb_fixture(column: &str) -> IntensitySeries {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/gb_neso_carbon_intensity_2023_first_50_lines.csv");
        read_csv(&path, &CsvOptions::default().with_column(column)).expect("fixture reads")
    }

    #[test]
    fn real_gb_file_integrates_by_hand() {
        let s = gb_fixture("actual");
        // 49 contiguous half-hours, 2022-12-31T23:30Z .. 2023-01-02T00:00Z.
        assert_eq!(s.intervals().len(), 49);
        assert!(s.gaps().is_empty());
        let ts = |s: &str| s.parse::<jiff::Timestamp>().expect("timestamp");
        assert_eq!(s.start(), ts("2022-12-31T23:30:00Z"));
        assert_eq!(s.end(), ts("2023-01-02T00:00:00Z"));
        // 1 kW over 2023-01-01 00:00..02:00Z: 0.5 kWh x (72 + 80 + 72 + 65) = 144.5 g.
        let bin = EnergyBin::constant_power(
            ts("2023-01-01T00:00:00Z"),
            jiff::SignedDuration::from_hours(2),
            crate::units::Watts(1000.0),
        );
        let c = s.carbon(&[bin]).expect("covered");
        assert!(
            (c.carbon.value() - 144.5).abs() < 1e-9,
            "{}",
            c.carbon.value()
        );
        // The forecast column of the same rows: 0.5 x (73 + 63 + 71 + 76) = 141.5 g.
        let f = gb_fixture("forecast").carbon(&[bin]).expect("covered");
        assert!((f.carbon.value() - 141.5).abs() < 1e-9);
        // Hourly means: 00:00Z (72 + 80) / 2 = 76; 01:00Z (72 + 65) / 2 = 68.5.
        let h = s
            .resample(jiff::SignedDuration::from_hours(1))
            .expect("resample");
        let at = |t: &str| h.at(ts(t)).map(|iv| (iv.intensity.value(), iv.filled));
        assert_eq!(at("2023-01-01T00:00:00Z"), Some((76.0, false)));
        assert_eq!(at("2023-01-01T01:59:59Z"), Some((68.5, false)));
        // The first bin, 2022-12-31T23:00Z, holds only the 23:30 half-hour: flagged.
        assert_eq!(at("2022-12-31T23:00:00Z"), Some((65.0, true)));
        // One day past the data, the error names the span.
        let late = EnergyBin::constant_power(
            ts("2023-01-01T23:00:00Z"),
            jiff::SignedDuration::from_hours(2),
            crate::units::Watts(1000.0),
        );
        let e = s.carbon(&[late]).expect_err("past the end").to_string();
        assert!(
            e.contains("does not cover 2023-01-02T00:00:00Z..2023-01-02T01:00:00Z"),
            "{e}"
        );
    }
}
