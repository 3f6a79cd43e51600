//! Real grid series shipped inside the library (`data/timeseries/`, CC BY 4.0, sources and
//! licences in its README), so demos and tests run offline: `gb-2023` (NESO, half-hourly
//! forecast and actual), `dk1-2024` / `dk2-2024` (Energinet hourly prognosis by price area) and
//! the four March weeks of 2024 at 5 minutes.

use super::{parse_csv, CsvOptions, GridError, IntensitySeries, Signal};

/// The attribution the NESO licence asks for (CC BY 4.0).
pub const GB_ATTRIBUTION: &str = "NESO Carbon Intensity API, carbonintensity.org.uk, CC BY 4.0";
/// The attribution Energinet asks for (CC BY 4.0), with the changes made.
pub const DK_ATTRIBUTION: &str = "Source: Energinet, energidataservice.dk, CO2EmisProg, CC BY \
                                  4.0, via CodeReaper/powercast-data (MIT); changed: to CSV";

const GB_2023: &str =
    include_str!("../../data/timeseries/gb_neso_carbon_intensity_national_2023_halfhourly.csv");
const DK_2024: &str =
    include_str!("../../data/timeseries/dk_energinet_co2_prognosis_2024_hourly.csv");
const DK_2024_03_5MIN: &str = include_str!(
    "../../data/timeseries/dk_energinet_co2_prognosis_2024-03-04_to_2024-03-31_5min.csv"
);

/// Energinet's 2024 day-ahead wind and solar forecasts for DK1 and DK2 (hourly, MWh per hour),
/// the renewable supplies of `plan renewable` (`plan::renewable::SHIPPED_SUPPLY`).
pub const DK_RENEWABLES: &str =
    include_str!("../../data/timeseries/dk_energinet_wind_solar_dayahead_forecast_2024_hourly.csv");
/// The attribution Energinet asks for the wind and solar forecasts (CC BY 4.0), with the changes.
pub const DK_RENEWABLES_ATTRIBUTION: &str = "Source: Energinet, energidataservice.dk, \
                                             Forecasts_Hour (ForecastDayAhead), CC BY 4.0, via \
                                             CodeReaper/powercast-data (MIT); changed: to CSV";

/// A series shipped with wattlens.
#[derive(Debug)]
#[non_exhaustive]
pub struct Shipped {
    /// The name given to `--series` (`gb-2023`).
    pub name: &'static str,
    /// The file in `data/timeseries/`.
    pub file: &'static str,
    /// What it is, in a few words.
    pub about: &'static str,
    /// The value columns that may be chosen; the first is the default.
    pub columns: &'static [&'static str],
    /// The point-sample time column, when the file has no `from`,`to` intervals.
    pub time_column: Option<&'static str>,
    /// The attribution its licence asks for, shown in the series' source.
    pub attribution: &'static str,
    text: &'static str,
}

/// Every shipped series.
pub const SHIPPED: &[Shipped] = &[
    Shipped {
        name: "gb-2023",
        file: "gb_neso_carbon_intensity_national_2023_halfhourly.csv",
        about: "Great Britain, national, 2023, half-hourly (forecast; or actual)",
        columns: &["forecast", "actual"],
        time_column: None,
        attribution: GB_ATTRIBUTION,
        text: GB_2023,
    },
    Shipped {
        name: "dk1-2024",
        file: "dk_energinet_co2_prognosis_2024_hourly.csv",
        about: "Denmark West (DK1), 2024, hourly prognosis",
        columns: &["dk1_gco2_per_kwh"],
        time_column: Some("hour_start_utc"),
        attribution: DK_ATTRIBUTION,
        text: DK_2024,
    },
    Shipped {
        name: "dk2-2024",
        file: "dk_energinet_co2_prognosis_2024_hourly.csv",
        about: "Denmark East (DK2), 2024, hourly prognosis",
        columns: &["dk2_gco2_per_kwh"],
        time_column: Some("hour_start_utc"),
        attribution: DK_ATTRIBUTION,
        text: DK_2024,
    },
    Shipped {
        name: "dk1-2024-03-5min",
        file: "dk_energinet_co2_prognosis_2024-03-04_to_2024-03-31_5min.csv",
        about: "Denmark West (DK1), 2024-03-04..03-31, 5-minute prognosis",
        columns: &["dk1_gco2_per_kwh"],
        time_column: Some("time_utc"),
        attribution: DK_ATTRIBUTION,
        text: DK_2024_03_5MIN,
    },
    Shipped {
        name: "dk2-2024-03-5min",
        file: "dk_energinet_co2_prognosis_2024-03-04_to_2024-03-31_5min.csv",
        about: "Denmark East (DK2), 2024-03-04..03-31, 5-minute prognosis",
        columns: &["dk2_gco2_per_kwh"],
        time_column: Some("time_utc"),
        attribution: DK_ATTRIBUTION,
        text: DK_2024_03_5MIN,
    },
];

/// The shipped series named `name` (ASCII case ignored).
#[must_use]
pub fn shipped(name: &str) -> Option<&'static Shipped> {
    SHIPPED
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name.trim()))
}

/// The shipped names, comma-separated, for messages.
#[must_use]
pub fn names() -> String {
    SHIPPED
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Shipped {
    /// The file's text, as shipped.
    #[must_use]
    pub fn text(&self) -> &'static str {
        self.text
    }

    /// The series, from `column` (one of [`Shipped::columns`], ASCII case ignored; `None`: the
    /// first); its source names the series, the column and the attribution.
    ///
    /// # Errors
    /// [`GridError::Choose`] for a column not in [`Shipped::columns`]; a shipped file itself
    /// always reads (a test holds every one).
    pub fn series(
        &self,
        column: Option<&str>,
        signal: Signal,
    ) -> Result<IntensitySeries, GridError> {
        let column = match column {
            None => self.columns[0],
            Some(c) => self
                .columns
                .iter()
                .find(|k| k.eq_ignore_ascii_case(c.trim()))
                .copied()
                .ok_or_else(|| GridError::Choose {
                    origin: self.name.into(),
                    why: format!(
                        "no column `{}` in the shipped series",
                        super::import::quote(c)
                    ),
                    choices: self.columns.join(", "),
                })?,
        };
        let mut o = CsvOptions::default()
            .with_column(column)
            .with_signal(signal);
        if let Some(t) = self.time_column {
            o = o.with_time_column(t);
        }
        let s = parse_csv(self.text.as_bytes(), self.name, &o)?;
        let source = format!("{} (column {column}; {})", self.name, self.attribution);
        IntensitySeries::new(source, s.signal(), s.intervals().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::EnergyBin;
    use jiff::{SignedDuration, Timestamp};

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn every_shipped_series_reads_in_every_column() {
        for s in SHIPPED {
            for c in s.columns {
                let series = s.series(Some(c), Signal::Average).expect(s.name);
                assert!(series.intervals().len() > 8000, "{} {c}", s.name);
                assert!(series.source().contains(s.attribution));
            }
        }
        assert_eq!(
            names(),
            "gb-2023, dk1-2024, dk2-2024, dk1-2024-03-5min, dk2-2024-03-5min"
        );
        assert!(shipped("GB-2023").is_some());
        assert!(shipped("gb-2022").is_none());
    }

    #[test]
    fn gb_2023_spans_the_year_with_its_known_gap() {
        let s = shipped("gb-2023")
            .expect("gb")
            .series(None, Signal::Average)
            .expect("gb");
        assert_eq!(s.start(), ts("2022-12-31T23:30:00Z"));
        assert_eq!(s.end(), ts("2024-01-01T00:00:00Z"));
        // The README's gap: no rows between 2023-10-20 21:30 and 2023-10-22 19:30 (91 half-hours).
        assert!(s
            .gaps()
            .contains(&(ts("2023-10-20T22:00:00Z"), ts("2023-10-22T19:30:00Z"))));
        // 1 kW over 2023-01-01 00:00..01:00Z on the forecast column (73, 63 in the file's
        // second and third rows): 0.5 x 73 + 0.5 x 63 = 68 g.
        let bin = EnergyBin::constant_power(
            ts("2023-01-01T00:00:00Z"),
            SignedDuration::from_hours(1),
            crate::units::Watts(1000.0),
        );
        let c = s.carbon(&[bin]).expect("covered");
        assert!(
            (c.carbon.value() - 68.0).abs() < 1e-9,
            "{}",
            c.carbon.value()
        );
        assert_eq!(
            s.source(),
            "gb-2023 (column forecast; NESO Carbon Intensity API, carbonintensity.org.uk, CC BY 4.0)"
        );
        let e = shipped("gb-2023")
            .expect("gb")
            .series(Some("index"), Signal::Average)
            .expect_err("not a value column")
            .to_string();
        assert_eq!(
            e,
            "gb-2023: no column `index` in the shipped series; choose one of: forecast, actual"
        );
    }

    #[test]
    fn dk_areas_read_their_own_column() {
        // The hourly file's first row: 2024-01-01T00:00Z, DK1 172.0, DK2 171.4.
        let at = ts("2024-01-01T00:30:00Z");
        let dk1 = shipped("dk1-2024")
            .expect("dk1")
            .series(None, Signal::Average)
            .expect("dk1");
        let dk2 = shipped("dk2-2024")
            .expect("dk2")
            .series(None, Signal::Average)
            .expect("dk2");
        assert_eq!(dk1.at(at).map(|i| i.intensity.value()), Some(172.0));
        assert_eq!(dk2.at(at).map(|i| i.intensity.value()), Some(171.4));
        assert_eq!(dk1.intervals().len(), 8784);
        assert!(dk1.gaps().is_empty());
    }
}
