//! Importers: the generic CSV and the JSON documents of four data providers (Electricity Maps,
//! the GB Carbon Intensity API, WattTime, Energinet's Energi Data Service), each to one
//! [`IntensitySeries`] in UTC, with the format given or detected from the content.
//!
//! Detection reads the first bytes: a document that starts with `{` is JSON, and its keys say
//! which provider wrote it (see [`SeriesFormat::detect`]); anything else is CSV, so a CSV file reads
//! exactly as it did before the JSON importers existed.

mod csv;
mod energinet;
mod json;
mod records;

pub(crate) use self::csv::quote;
pub use self::csv::{
    parse_csv, read_csv, CsvOptions, DEFAULT_VALUE_COLUMN, MAX_FILE_BYTES, MAX_G_PER_KWH,
};
pub use self::json::KG_PER_LB;

use super::{GridError, IntensitySeries, Signal};
use std::io::Read;
use std::path::Path;

/// A series file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SeriesFormat {
    /// The generic CSV ([`parse_csv`]).
    Csv,
    /// Electricity Maps `carbon-intensity/history` or `/forecast` JSON:
    /// `{"zone", "history"|"forecast": [{"datetime", "carbonIntensity"}]}`.
    ElectricityMaps,
    /// The GB Carbon Intensity API (NESO): national `{"data": [{"from", "to", "intensity":
    /// {"forecast", "actual", "index"}}]}`, or regional, by region (`{"data": [{"regionid",
    /// "dnoregion", "shortname", "data": [..]}]}`) or by time (`{"data": [{"from", "to",
    /// "regions": [..]}]}`).
    Gb,
    /// WattTime v3 `historical` or `forecast`: `{"data": [{"point_time", "value"}], "meta":
    /// {"units", "signal_type", "data_point_period_seconds"}}`, lb/MWh.
    WattTime,
    /// Energinet's Energi Data Service (`CO2Emis`, `CO2EmisProg`): `{"records":
    /// [{"Minutes5UTC"|"HourUTC", "PriceArea", "CO2Emission"}]}`.
    Energinet,
}

impl SeriesFormat {
    /// Every format, in the order messages list them.
    pub const ALL: [SeriesFormat; 5] = [
        SeriesFormat::Csv,
        SeriesFormat::ElectricityMaps,
        SeriesFormat::Gb,
        SeriesFormat::WattTime,
        SeriesFormat::Energinet,
    ];

    /// The name used on the command line and in messages.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SeriesFormat::Csv => "csv",
            SeriesFormat::ElectricityMaps => "electricitymaps",
            SeriesFormat::Gb => "gb",
            SeriesFormat::WattTime => "watttime",
            SeriesFormat::Energinet => "energinet",
        }
    }

    /// The format named `name` (ASCII case ignored).
    #[must_use]
    pub fn parse(name: &str) -> Option<SeriesFormat> {
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The format of a document from its first bytes and, for JSON, its top-level keys:
    /// `history` or `forecast` is Electricity Maps, `records` Energinet, `data` with `meta` and
    /// `point_time` items WattTime, `data` with `intensity`, `regions` or `regionid` items GB.
    /// `None` for JSON of none of these shapes; not JSON is CSV.
    #[must_use]
    pub fn detect(doc: &serde_json::Value) -> Option<SeriesFormat> {
        let obj = doc.as_object()?;
        if obj.contains_key("history") || obj.contains_key("forecast") {
            return Some(SeriesFormat::ElectricityMaps);
        }
        if obj.contains_key("records") {
            return Some(SeriesFormat::Energinet);
        }
        let first = obj.get("data")?.as_array()?.first()?.as_object()?;
        if first.contains_key("point_time") {
            return Some(SeriesFormat::WattTime);
        }
        if ["intensity", "regions", "regionid"]
            .iter()
            .any(|k| first.contains_key(*k))
        {
            return Some(SeriesFormat::Gb);
        }
        None
    }
}

impl std::fmt::Display for SeriesFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How to read a series file of any format.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportOptions {
    /// The format; `None` detects it from the content.
    pub format: Option<SeriesFormat>,
    /// What the values mean; `None` takes the format's own (a WattTime MOER is marginal, the
    /// others average; a CSV is average). A provider's signal that differs is an error.
    pub signal: Option<Signal>,
    /// Which series of the file: the CSV value column ([`DEFAULT_VALUE_COLUMN`] by default);
    /// GB national `forecast` (default) or `actual`; a GB region (its `regionid`, `shortname`
    /// or `dnoregion`); an Energinet price area (`DK1`, `DK2`). Electricity Maps and WattTime
    /// documents hold one series and take none.
    pub column: Option<String>,
    /// The CSV point-sample time column when not `timestamp` (CSV only).
    pub time_column: Option<String>,
}

impl ImportOptions {
    /// Detects the format; the format's own signal; the default column.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// The same options with the format given.
    #[must_use]
    pub fn with_format(mut self, format: SeriesFormat) -> Self {
        self.format = Some(format);
        self
    }
    /// The same options with the signal stated.
    #[must_use]
    pub fn with_signal(mut self, signal: Signal) -> Self {
        self.signal = Some(signal);
        self
    }
    /// The same options reading series `name` of the file (see [`ImportOptions::column`]).
    #[must_use]
    pub fn with_column(mut self, name: impl Into<String>) -> Self {
        self.column = Some(name.into());
        self
    }
    /// The same options reading CSV point samples timed by column `name`.
    #[must_use]
    pub fn with_time_column(mut self, name: impl Into<String>) -> Self {
        self.time_column = Some(name.into());
        self
    }
    /// The CSV options these give.
    #[must_use]
    pub fn csv(&self) -> CsvOptions {
        let mut o = CsvOptions::default().with_signal(self.signal.unwrap_or(Signal::Average));
        if let Some(c) = &self.column {
            o = o.with_column(c.clone());
        }
        if let Some(c) = &self.time_column {
            o = o.with_time_column(c.clone());
        }
        o
    }
}

/// Reads a series file of any format; see [`parse_series`].
///
/// # Errors
/// [`GridError::Io`] / [`GridError::NotAFile`] when the file cannot be read, and every error
/// of [`parse_series`].
pub fn read_series(path: &Path, options: &ImportOptions) -> Result<IntensitySeries, GridError> {
    let io = |source| GridError::Io {
        path: path.to_path_buf(),
        source,
    };
    if std::fs::metadata(path).map_err(io)?.is_dir() {
        return Err(GridError::NotAFile {
            path: path.to_path_buf(),
            what: "a directory",
        });
    }
    let file = std::fs::File::open(path).map_err(io)?;
    parse_series(
        std::io::BufReader::new(file),
        &path.display().to_string(),
        options,
    )
}

/// The most bytes read before deciding the format: leading white space (and a byte-order mark)
/// is skipped up to here.
const SNIFF_BYTES: usize = 4096;

/// Reads a series in the format given, or detected: JSON (a first non-blank byte `{` or `[`)
/// by its keys ([`SeriesFormat::detect`]), anything else as CSV ([`parse_csv`]). `origin` names the
/// input in errors and in the series' source.
///
/// # Errors
/// Every error of [`parse_csv`] for CSV. For JSON: [`GridError::Json`] (not well-formed),
/// [`GridError::Shape`] (no known shape, or a part missing), [`GridError::Record`] naming the
/// record of a bad time or value or of records out of order, repeated or with mixed offsets,
/// [`GridError::Choose`] (a region or price area to choose), [`GridError::Signal`],
/// [`GridError::TooFewRows`] / [`GridError::Empty`] (no records, or none with a value),
/// [`GridError::TooLarge`].
pub fn parse_series<R: Read>(
    mut reader: R,
    origin: &str,
    options: &ImportOptions,
) -> Result<IntensitySeries, GridError> {
    let mut head = Vec::new();
    let first = loop {
        let mut byte = [0u8; 1];
        let n = reader.read(&mut byte).map_err(|e| GridError::Read {
            origin: origin.into(),
            why: e.to_string(),
        })?;
        if n == 0 {
            break None;
        }
        head.push(byte[0]);
        let blank = byte[0].is_ascii_whitespace() || (head.len() <= 3 && is_bom(&head));
        if !blank || head.len() >= SNIFF_BYTES {
            break Some(byte[0]);
        }
    };
    let rest = std::io::Cursor::new(head).chain(reader);
    let json = matches!(first, Some(b'{' | b'['));
    if first.is_none() {
        return Err(GridError::TooFewRows {
            origin: origin.into(),
            why: "the file is empty (or only blank); give a CSV with a header and rows, or a \
                  provider's JSON document",
        });
    }
    match options.format {
        Some(SeriesFormat::Csv) => parse_csv(rest, origin, &options.csv()),
        Some(SeriesFormat::Energinet) if !json => energinet::parse_csv(rest, origin, options),
        None if !json => parse_csv(rest, origin, &options.csv()),
        given => {
            let doc = json::read_doc(rest, origin)?;
            let format = match given {
                Some(f) => f,
                None => SeriesFormat::detect(&doc).ok_or_else(|| GridError::Shape {
                    origin: origin.into(),
                    why: format!("a JSON document of no known shape ({})", json::keys(&doc)),
                })?,
            };
            json::parse(&doc, format, origin, options)
        }
    }
}

/// Whether `head` is (a prefix of) the UTF-8 byte-order mark.
fn is_bom(head: &[u8]) -> bool {
    [0xEF, 0xBB, 0xBF].starts_with(head)
}

#[cfg(test)]
mod tests;

/// How long point sample `i` holds, in ns, given the steps between consecutive samples
/// (`steps[i]` from sample `i` to `i + 1`): the whole step, except where a missing sample shows.
/// In a regular series (every step a whole multiple of the median, [`is_regular`]) a step of at
/// least twice its neighbours' common step, and a whole multiple of it, holds for one neighbour
/// step and leaves the rest a gap, which `--series-fill` may interpolate. Neighbours
/// that differ (a series that changes resolution, from hourly to 15-minute rows) or a series of
/// change points hold each value until the next sample.
pub(super) fn held(steps: &[i128], i: usize, regular: bool) -> i128 {
    const MS: i128 = 1_000_000;
    let step = steps[i];
    if !regular {
        return step;
    }
    let prev = i.checked_sub(1).map(|j| steps[j]);
    let next = steps.get(i + 1).copied();
    let local = match (prev, next) {
        (Some(a), Some(b)) if (a - b).abs() <= MS => a,
        (Some(a), None) | (None, Some(a)) => a,
        _ => return step,
    };
    let r = if local > 0 { step % local } else { 1 };
    let multiple = local > 0 && (r <= MS || local - r <= MS);
    if multiple && step >= 2 * local - MS {
        local
    } else {
        step
    }
}

/// Whether every step is a whole multiple of `median` (to the millisecond).
pub(super) fn is_regular(steps: &[i128], median: i128) -> bool {
    const MS: i128 = 1_000_000;
    median > 0
        && steps.iter().all(|&s| {
            let r = s % median;
            r <= MS || median - r <= MS
        })
}
