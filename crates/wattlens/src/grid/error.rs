//! What can go wrong reading, building or integrating an intensity series; each message names
//! the file, line, column or time span and says what to do.

use jiff::Timestamp;
use std::path::PathBuf;

/// An error from the grid module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GridError {
    /// The file could not be opened or read.
    #[error("cannot read intensity series {path}: {source}; check the path and read permission")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The path is not a file that can be read as a series.
    #[error("cannot read intensity series {path}: it is {what}; give a CSV file")]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is (`a directory`).
        what: &'static str,
    },
    /// Reading failed part-way.
    #[error("cannot read intensity series {origin}: {why}")]
    Read {
        /// The file.
        origin: String,
        /// The underlying error.
        why: String,
    },
    /// A line too long to be a row of a series (a binary file, `/dev/zero`).
    #[error(
        "{origin}: line {line} is longer than {max_kib} KiB, which no row of an intensity \
         series is (one time and a few numbers): is it a CSV file?"
    )]
    LineTooLong {
        /// The file.
        origin: String,
        /// 1-based line number.
        line: u64,
        /// The limit, KiB.
        max_kib: u64,
    },
    /// The input is larger than any series needs.
    #[error(
        "{origin} is larger than {max_mib} MiB, more than any intensity series needs (a \
         century of 5-minute rows is about 500 MiB): is it the right file?"
    )]
    TooLarge {
        /// The file.
        origin: String,
        /// The limit, MiB.
        max_mib: u64,
    },
    /// The header is ambiguous: a column twice, or both layouts.
    #[error("{origin}: the header `{header}` is ambiguous: {why}; keep one")]
    Ambiguous {
        /// The file.
        origin: String,
        /// The header as read, comma-separated (cut short).
        header: String,
        /// What is ambiguous.
        why: String,
    },
    /// The CSV itself is malformed (unbalanced quotes, a row with a different number of cells).
    #[error("{origin}: line {line}: {source}; every row needs one cell per header column")]
    Csv {
        /// The file (or the name given to a reader).
        origin: String,
        /// 1-based line number, 0 when unknown.
        line: u64,
        /// The underlying error.
        source: csv::Error,
    },
    /// The header has neither a `timestamp` nor a `from`,`to` pair of columns.
    #[error(
        "{origin}: the header `{header}` has no time columns; write `timestamp,<value>` \
         (point samples, each holding until the next) or `from,to,<value>` (intervals)"
    )]
    Header {
        /// The file.
        origin: String,
        /// The header as read, comma-separated.
        header: String,
    },
    /// The value column asked for is not in the header.
    #[error("{origin}: no column `{column}`; name the value column, one of: {header}")]
    NoColumn {
        /// The file.
        origin: String,
        /// The column asked for.
        column: String,
        /// The header as read, comma-separated.
        header: String,
    },
    /// A time cell that is not an RFC 3339 timestamp with an offset.
    #[error(
        "{origin}: line {line}, column {column} ({name}): cannot read `{text}` as a time \
         ({why}); write RFC 3339 with an offset, e.g. 2024-03-04T00:00:00Z or \
         2024-03-04 01:00:00+01:00"
    )]
    Time {
        /// The file.
        origin: String,
        /// 1-based line number.
        line: u64,
        /// 1-based column number.
        column: usize,
        /// The column's name.
        name: String,
        /// The cell as written.
        text: String,
        /// What the time parser said.
        why: String,
    },
    /// A value cell that is present but not a finite, non-negative number.
    #[error(
        "{origin}: line {line}, column {column} ({name}): `{text}` is {why}; write g/kWh as \
         a plain non-negative number, or leave the cell empty for a gap"
    )]
    Value {
        /// The file.
        origin: String,
        /// 1-based line number.
        line: u64,
        /// 1-based column number.
        column: usize,
        /// The column's name.
        name: String,
        /// The cell as written.
        text: String,
        /// `not a number`, `negative`, `not finite` or above the bound.
        why: &'static str,
    },
    /// A row whose time is not after the previous row's: duplicated, out of order or
    /// overlapping.
    #[error(
        "{origin}: line {line}: {what} (line {previous} before it); sort the rows by time and \
         remove duplicates and overlaps"
    )]
    Order {
        /// The file.
        origin: String,
        /// 1-based line number of the offending row.
        line: u64,
        /// 1-based line number of the row it collides with.
        previous: u64,
        /// What is wrong, with the times.
        what: String,
    },
    /// An interval row whose `to` is not after its `from`.
    #[error("{origin}: line {line}: the interval {start}..{end} is empty or reversed; `to` must be after `from`")]
    EmptyInterval {
        /// The file.
        origin: String,
        /// 1-based line number.
        line: u64,
        /// `from` as read (UTC).
        start: Timestamp,
        /// `to` as read (UTC).
        end: Timestamp,
    },
    /// Too few rows to build a series.
    #[error("{origin}: {why}")]
    TooFewRows {
        /// The file.
        origin: String,
        /// What is missing and what to add.
        why: &'static str,
    },
    /// An interval handed to [`IntensitySeries::new`](super::IntensitySeries::new) is invalid.
    #[error("intensity series {source_name}: row {row}: {why}")]
    Interval {
        /// The series' source.
        source_name: String,
        /// 1-based position in the list of intervals.
        row: usize,
        /// What is wrong and what to do.
        why: String,
    },
    /// A series with no intervals.
    #[error("intensity series {source_name} has no intervals; give at least one with a value")]
    Empty {
        /// The series' source.
        source_name: String,
    },
    /// A duration parameter (resampling width, maximum gap) is not positive.
    #[error("{what} must be a positive duration, got {got}")]
    Duration {
        /// Which parameter.
        what: &'static str,
        /// The value given.
        got: jiff::SignedDuration,
    },
    /// A bin of an energy profile is invalid.
    #[error("energy profile bin {index} (0-based): {why}")]
    Bin {
        /// 0-based position in the profile.
        index: usize,
        /// What is wrong.
        why: String,
    },
    /// The series does not cover part of the energy profile's span.
    #[error(
        "the intensity series {source_name} does not cover {start}..{end} of the energy \
         profile (the series spans {series_start}..{series_end}{gapped}); give a series that \
         covers the whole span, or use the annual intensity"
    )]
    Uncovered {
        /// The series' source.
        source_name: String,
        /// Start of the first uncovered span (UTC).
        start: Timestamp,
        /// End of the first uncovered span (UTC).
        end: Timestamp,
        /// Start of the series.
        series_start: Timestamp,
        /// End of the series.
        series_end: Timestamp,
        /// `", with gaps"` when the series has gaps, else empty.
        gapped: &'static str,
    },
    /// A JSON document that is not well-formed.
    #[error("{origin}: line {line}, column {column}: {why}; is it the whole JSON document as the provider sent it?")]
    Json {
        /// The file.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON parser said.
        why: String,
    },
    /// A JSON document of no shape the importers know, or a provider document missing a part.
    #[error(
        "{origin}: {why}; the formats read are csv, electricitymaps (`history` or `forecast`), \
         gb (`data` with `intensity`, `regions` or `regionid`), watttime (`data` with \
         `point_time`, and `meta`) and energinet (`records`)"
    )]
    Shape {
        /// The file.
        origin: String,
        /// What was found, or what is missing.
        why: String,
    },
    /// One record of a provider document is wrong: a time or value that cannot be read, or
    /// records out of order, repeated or overlapping.
    #[error("{origin}: record {record}: {why}")]
    Record {
        /// The file.
        origin: String,
        /// Where the record is, as a JSON path (`history[3]`) or a line (`line 4`).
        record: String,
        /// What is wrong and what to do.
        why: String,
    },
    /// The document holds several series (GB regions, Danish price areas) and none, or one
    /// not in it, was chosen.
    #[error("{origin}: {why}; choose one of: {choices}")]
    Choose {
        /// The file.
        origin: String,
        /// What is missing.
        why: String,
        /// The series in the file, comma-separated (cut short).
        choices: String,
    },
    /// The provider's signal is not the one asked for (a WattTime MOER read as an average).
    #[error("{origin}: {what} is a {found} signal, not {asked}; read it as {found}")]
    Signal {
        /// The file.
        origin: String,
        /// What the provider's values are (`WattTime co2_moer`).
        what: String,
        /// The signal of the values.
        found: super::Signal,
        /// The signal asked for.
        asked: super::Signal,
    },
    /// A time computed from the data falls outside what a timestamp can hold (years -9999 to
    /// 9999).
    #[error("{what} falls outside the years -9999..9999")]
    OutOfRange {
        /// What was being computed.
        what: String,
    },
}
