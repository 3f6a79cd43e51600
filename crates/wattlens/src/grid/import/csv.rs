//! The generic CSV importer: point samples (`timestamp,g_per_kwh`) or intervals
//! (`from,to,<value>`), RFC 3339 times with any offset converted to UTC, empty cells as gaps.

use crate::grid::series::{at_ns, ns};
use crate::grid::{GridError, IntensitySeries, Interval, Signal};
use crate::units::GramsPerKwh;
use jiff::Timestamp;
use std::cell::Cell as Flag;
use std::io::Read;
use std::path::Path;
use std::rc::Rc;

/// The longest line read, bytes: an intensity series has one short row per time; a longer
/// line is not one (a binary file, `/dev/zero`), and reading stops there.
pub const MAX_LINE_BYTES: u64 = 64 * 1024;

/// The most bytes read from one file: 1 GiB (a 5-minute series over a century is ~0.5 GiB).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024 * 1024;

/// The highest intensity value accepted, g/kWh, as for `--intensity`: no grid comes within
/// two orders of magnitude of it (the dirtiest averages ~1,300 g/kWh); a value above it is a
/// unit slip (g/MWh) or a corrupt cell.
pub const MAX_G_PER_KWH: f64 = 100_000.0;

/// The most characters of the input an error quotes; longer text is cut and ends with `…`.
const QUOTE_CHARS: usize = 80;

/// `text`, cut to [`QUOTE_CHARS`] characters (then `…`), for an error message.
pub(crate) fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_CHARS) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// The value column read when none is named.
pub const DEFAULT_VALUE_COLUMN: &str = "g_per_kwh";

/// How to read a CSV file into a series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// What the values mean.
    pub signal: Signal,
    /// The header name of the value column (matched ignoring ASCII case), in g/kWh.
    pub column: String,
    /// The header name of a point-sample time column other than `timestamp` (e.g.
    /// `hour_start_utc` in the Energinet files); `None` looks for `timestamp`, then `from`,`to`.
    pub time_column: Option<String>,
}

impl Default for CsvOptions {
    /// An average signal in column [`DEFAULT_VALUE_COLUMN`].
    fn default() -> Self {
        Self {
            signal: Signal::Average,
            column: DEFAULT_VALUE_COLUMN.into(),
            time_column: None,
        }
    }
}

impl CsvOptions {
    /// The same options, reading column `name` (e.g. `actual` in the NESO files).
    #[must_use]
    pub fn with_column(mut self, name: impl Into<String>) -> Self {
        self.column = name.into();
        self
    }
    /// The same options, reading point samples timed by column `name`.
    #[must_use]
    pub fn with_time_column(mut self, name: impl Into<String>) -> Self {
        self.time_column = Some(name.into());
        self
    }
    /// The same options with another signal.
    #[must_use]
    pub fn with_signal(mut self, signal: Signal) -> Self {
        self.signal = signal;
        self
    }
}

/// Reads a series from a CSV file; see [`parse_csv`] for the format.
///
/// # Errors
/// [`GridError::Io`] when the file cannot be opened, and every error of [`parse_csv`].
pub fn read_csv(path: &Path, options: &CsvOptions) -> Result<IntensitySeries, GridError> {
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
    parse_csv(
        std::io::BufReader::new(file),
        &path.display().to_string(),
        options,
    )
}

/// Which limit a [`Limited`] reader hit.
#[derive(Clone, Copy, Debug)]
enum Hit {
    /// The line (1-based) is longer than the limit.
    Line(u64),
    /// The input is larger than the limit.
    Size,
}

/// A reader that stops with an error at a line longer than `max_line` bytes or after
/// `max_total` bytes, and says which in `hit`.
struct Limited<R> {
    inner: R,
    max_line: u64,
    max_total: u64,
    line: u64,
    in_line: u64,
    total: u64,
    hit: Rc<Flag<Option<Hit>>>,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.total += n as u64;
        if self.total > self.max_total {
            self.hit.set(Some(Hit::Size));
            return Err(std::io::Error::other("input too large"));
        }
        for &b in &buf[..n] {
            if b == b'\n' {
                self.line += 1;
                self.in_line = 0;
            } else {
                self.in_line += 1;
                if self.in_line > self.max_line {
                    self.hit.set(Some(Hit::Line(self.line)));
                    return Err(std::io::Error::other("line too long"));
                }
            }
        }
        Ok(n)
    }
}

/// Reads a series from CSV text; `origin` names it in errors and in the series' source.
///
/// The header decides the layout (names are matched ignoring ASCII case; other columns are
/// ignored):
///
/// - `timestamp,<value>`: point samples. Each value holds from its timestamp until the next
///   row's; the last row holds for the median step between rows.
/// - `from,to,<value>`: intervals `[from, to)`; time between one row's `to` and the next row's
///   `from` is a gap.
///
/// [`CsvOptions::time_column`] names another point-sample time column.
///
/// Times are RFC 3339 with an offset, `T` or a space between date and time
/// (`2024-03-04T01:00:00+01:00`, `2023-01-01 00:00:00+00:00`, `...Z`), converted to UTC. An
/// empty value cell is a gap; a row's timestamps still count for order and for the median
/// step.
///
/// # Errors
/// [`GridError::Header`] / [`GridError::NoColumn`] for the header; [`GridError::Time`] and
/// [`GridError::Value`] name the line and column of a bad cell; [`GridError::Order`] a row
/// duplicated, out of order or overlapping the one before; [`GridError::EmptyInterval`] a row
/// whose `to` is not after its `from`; [`GridError::TooFewRows`]; [`GridError::Csv`] for
/// malformed CSV.
pub fn parse_csv<R: Read>(
    reader: R,
    origin: &str,
    options: &CsvOptions,
) -> Result<IntensitySeries, GridError> {
    parse_limited(reader, origin, options, MAX_LINE_BYTES, MAX_FILE_BYTES)
}

/// [`parse_csv`] with the limits given.
fn parse_limited<R: Read>(
    reader: R,
    origin: &str,
    options: &CsvOptions,
    max_line: u64,
    max_total: u64,
) -> Result<IntensitySeries, GridError> {
    let hit = Rc::new(Flag::new(None));
    let reader = Limited {
        inner: reader,
        max_line,
        max_total,
        line: 1,
        in_line: 0,
        total: 0,
        hit: Rc::clone(&hit),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(reader);
    let csv_err = |source: csv::Error| match (hit.get(), source.kind()) {
        (Some(Hit::Line(line)), _) => GridError::LineTooLong {
            origin: origin.to_string(),
            line,
            max_kib: max_line / 1024,
        },
        (Some(Hit::Size), _) => GridError::TooLarge {
            origin: origin.to_string(),
            max_mib: max_total / (1024 * 1024),
        },
        (None, csv::ErrorKind::Io(_)) => GridError::Read {
            origin: origin.to_string(),
            why: source.to_string(),
        },
        _ => GridError::Csv {
            origin: origin.to_string(),
            line: source.position().map_or(0, csv::Position::line),
            source,
        },
    };
    let header = rdr.headers().map_err(csv_err)?.clone();
    let joined = quote(&header.iter().collect::<Vec<_>>().join(","));
    let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let count = |name: &str| {
        header
            .iter()
            .filter(|h| h.eq_ignore_ascii_case(name))
            .count()
    };
    for name in [
        options.column.as_str(),
        options.time_column.as_deref().unwrap_or("timestamp"),
        "from",
        "to",
    ] {
        if count(name) > 1 {
            return Err(GridError::Ambiguous {
                origin: origin.into(),
                header: joined,
                why: format!("the column `{}` appears more than once", quote(name)),
            });
        }
    }
    let time = options.time_column.as_deref().unwrap_or("timestamp");
    if let (Some(_), Some(_), Some(_)) = (find(time), find("from"), find("to")) {
        return Err(GridError::Ambiguous {
            origin: origin.into(),
            header: joined,
            why: format!(
                "it has both `{}` (point samples) and `from`,`to` (intervals)",
                quote(time)
            ),
        });
    }
    let layout = match (find(time), find("from"), find("to")) {
        (Some(t), _, _) => Layout::Points(t),
        (None, ..) if options.time_column.is_some() => {
            return Err(GridError::NoColumn {
                origin: origin.into(),
                column: quote(time),
                header: joined,
            })
        }
        (None, Some(from), Some(to)) => Layout::Intervals(from, to),
        _ => {
            return Err(GridError::Header {
                origin: origin.into(),
                header: joined,
            })
        }
    };
    let value_col = find(&options.column).ok_or_else(|| GridError::NoColumn {
        origin: origin.into(),
        column: quote(&options.column),
        header: joined,
    })?;

    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(csv_err)?;
        let cell = Cell {
            origin,
            header: &header,
            rec: &rec,
            line: rec.position().map_or(0, csv::Position::line),
        };
        let (start, end) = match layout {
            Layout::Points(t) => (cell.time(t)?, None),
            Layout::Intervals(from, to) => (cell.time(from)?, Some(cell.time(to)?)),
        };
        rows.push(Row {
            line: cell.line,
            start,
            end,
            value: cell.value(value_col)?,
        });
    }
    let intervals = match layout {
        Layout::Points(_) => points(origin, &rows)?,
        Layout::Intervals(..) => intervals(origin, &rows)?,
    };
    let source = format!(
        "{origin} (column {})",
        header.get(value_col).unwrap_or_default()
    );
    IntensitySeries::new(source, options.signal, intervals)
}

#[derive(Clone, Copy)]
enum Layout {
    /// Column of `timestamp`.
    Points(usize),
    /// Columns of `from` and `to`.
    Intervals(usize, usize),
}

struct Row {
    line: u64,
    start: Timestamp,
    end: Option<Timestamp>,
    value: Option<GramsPerKwh>,
}

/// One record being read, for errors that name the line and column.
struct Cell<'a> {
    origin: &'a str,
    header: &'a csv::StringRecord,
    rec: &'a csv::StringRecord,
    line: u64,
}

impl Cell<'_> {
    fn text(&self, col: usize) -> &str {
        self.rec.get(col).unwrap_or_default()
    }
    fn name(&self, col: usize) -> String {
        quote(self.header.get(col).unwrap_or_default())
    }
    fn time(&self, col: usize) -> Result<Timestamp, GridError> {
        let text = self.text(col);
        let err = |why: String| GridError::Time {
            origin: self.origin.into(),
            line: self.line,
            column: col + 1,
            name: self.name(col),
            text: quote(text),
            why,
        };
        // The time parser reads a leap second `:60` as `:59`, which would make two rows one
        // instant (or shift a boundary); a series has no use for leap seconds.
        if leap_second(text) {
            return Err(err(
                "a leap second (:60); write the next second (:00 of the next minute)".into(),
            ));
        }
        text.parse::<Timestamp>().map_err(|e| {
            err(if text.is_empty() {
                "the cell is empty".into()
            } else {
                e.to_string()
            })
        })
    }
    fn value(&self, col: usize) -> Result<Option<GramsPerKwh>, GridError> {
        let text = self.text(col);
        if text.is_empty() {
            return Ok(None);
        }
        let why = match text.parse::<f64>() {
            Ok(v) if v.is_finite() && (0.0..=MAX_G_PER_KWH).contains(&v) => {
                return Ok(Some(GramsPerKwh(v)))
            }
            Ok(v) if v.is_finite() && v > MAX_G_PER_KWH => {
                "above 100,000 g/kWh, beyond any grid (the dirtiest average ~1,300): is the \
                 column in g/MWh or lb/MWh?"
            }
            Ok(v) if v.is_finite() => "negative",
            Ok(_) => "not finite",
            Err(_) => "not a number",
        };
        Err(GridError::Value {
            origin: self.origin.into(),
            line: self.line,
            column: col + 1,
            name: self.name(col),
            text: quote(text),
            why,
        })
    }
}

/// Whether an RFC 3339 time has `60` as its seconds (`...T23:59:60Z`).
fn leap_second(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 19 && b[13] == b':' && b[16] == b':' && &b[17..19] == b"60"
}

fn order(origin: &str, row: &Row, prev: &Row, what: String) -> GridError {
    GridError::Order {
        origin: origin.into(),
        line: row.line,
        previous: prev.line,
        what,
    }
}

/// Point samples: each value holds until the next timestamp (in a regular series at most one
/// median step: a missing row is a gap), the last for the median step.
fn points(origin: &str, rows: &[Row]) -> Result<Vec<Interval>, GridError> {
    for w in rows.windows(2) {
        let (prev, row) = (&w[0], &w[1]);
        if row.start == prev.start {
            return Err(order(
                origin,
                row,
                prev,
                format!("timestamp {} repeats", row.start),
            ));
        }
        if row.start < prev.start {
            return Err(order(
                origin,
                row,
                prev,
                format!("timestamp {} is earlier than {}", row.start, prev.start),
            ));
        }
    }
    if rows.len() < 2 {
        return Err(GridError::TooFewRows {
            origin: origin.into(),
            why: "point samples need at least two rows: each value holds until the next \
                  timestamp, and the last for the median step; add a row or write \
                  `from,to,<value>` intervals",
        });
    }
    let in_order: Vec<i128> = rows
        .windows(2)
        .map(|w| ns(w[1].start) - ns(w[0].start))
        .collect();
    let mut steps = in_order.clone();
    steps.sort_unstable();
    let mid = steps.len() / 2;
    let median = if steps.len() % 2 == 1 {
        steps[mid]
    } else {
        (steps[mid - 1] + steps[mid]) / 2
    };
    let regular = super::is_regular(&steps, median);
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let Some(v) = row.value else { continue };
        let end = match rows.get(i + 1) {
            Some(next) => {
                let held = super::held(&in_order, i, regular);
                if held == in_order[i] {
                    next.start
                } else {
                    at_ns(ns(row.start) + held, || {
                        format!("{origin}: the end of line {}", row.line)
                    })?
                }
            }
            None => at_ns(ns(row.start) + median, || {
                format!("{origin}: the end of the last row (line {})", row.line)
            })?,
        };
        out.push(Interval::new(row.start, end, v));
    }
    Ok(out)
}

/// `from,to` intervals, in order and not overlapping; empty values are gaps.
fn intervals(origin: &str, rows: &[Row]) -> Result<Vec<Interval>, GridError> {
    let mut out = Vec::with_capacity(rows.len());
    let mut prev: Option<(&Row, Timestamp)> = None;
    for row in rows {
        let end = row.end.unwrap_or(row.start);
        if end <= row.start {
            return Err(GridError::EmptyInterval {
                origin: origin.into(),
                line: row.line,
                start: row.start,
                end,
            });
        }
        if let Some((p, p_end)) = prev {
            let span = |s: Timestamp, e: Timestamp| format!("{s}..{e}");
            if row.start == p.start {
                let what = format!("interval {} repeats the start of", span(row.start, end));
                return Err(order(
                    origin,
                    row,
                    p,
                    format!("{what} {}", span(p.start, p_end)),
                ));
            }
            if row.start < p.start {
                let what = format!(
                    "interval {} is earlier than {}",
                    span(row.start, end),
                    span(p.start, p_end)
                );
                return Err(order(origin, row, p, what));
            }
            if row.start < p_end {
                let what = format!(
                    "interval {} overlaps {}",
                    span(row.start, end),
                    span(p.start, p_end)
                );
                return Err(order(origin, row, p, what));
            }
        }
        if let Some(v) = row.value {
            out.push(Interval::new(row.start, end, v));
        }
        prev = Some((row, end));
    }
    if rows.is_empty() {
        return Err(GridError::TooFewRows {
            origin: origin.into(),
            why: "no rows under the header; add at least one interval with a value",
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::series::tests::t;

    fn parse(text: &str) -> Result<IntensitySeries, GridError> {
        parse_csv(text.as_bytes(), "s.csv", &CsvOptions::default())
    }
    fn err(text: &str) -> String {
        parse(text).expect_err("should fail").to_string()
    }
    fn rows(s: &IntensitySeries) -> Vec<(Timestamp, Timestamp, f64)> {
        s.intervals()
            .iter()
            .map(|iv| (iv.start, iv.end, iv.intensity.value()))
            .collect()
    }

    #[test]
    fn point_samples_hold_until_the_next_and_the_last_for_the_median_step() {
        // Steps 1 h, 1 h, 2 h: median 1 h, so the last row covers [4 h, 5 h); every step is a
        // whole number of hours, so the 2 h step is a missing row: 300 holds for one hour and
        // [3 h, 4 h) is a gap (issue 10: missing rows are gaps, filled only by --series-fill).
        let s = parse(
            "timestamp,g_per_kwh\n\
             2024-03-04T00:00:00Z,100\n\
             2024-03-04T01:00:00Z,200\n\
             2024-03-04T02:00:00Z,300\n\
             2024-03-04T04:00:00Z,400\n",
        )
        .expect("parse");
        assert_eq!(
            rows(&s),
            vec![
                (t(0.0), t(1.0), 100.0),
                (t(1.0), t(2.0), 200.0),
                (t(2.0), t(3.0), 300.0),
                (t(4.0), t(5.0), 400.0)
            ]
        );
        assert_eq!(s.gaps(), vec![(t(3.0), t(4.0))]);
        // Change points (steps 1 h and 1.5 h: not multiples of one step) hold until the next.
        let c = parse(
            "timestamp,g_per_kwh\n\
             2024-03-04T00:00:00Z,100\n\
             2024-03-04T01:00:00Z,200\n\
             2024-03-04T02:30:00Z,300\n",
        )
        .expect("parse");
        assert_eq!(rows(&c)[1], (t(1.0), t(2.5), 200.0));
        assert!(c.gaps().is_empty());
        // A series that changes resolution (hourly rows, then 15-minute rows: every step a
        // multiple of the 15-minute median) is not read as missing rows: each hourly value
        // holds for its hour (a hostile test found the hours read as 15 minutes and gaps).
        let mut text = String::from("timestamp,g_per_kwh\n");
        for h in 0..6 {
            text.push_str(&format!("2024-03-04T0{h}:00:00Z,100\n"));
        }
        for q in 0..8 {
            text.push_str(
                &format!("2024-03-04T06:{:02}:00Z,200\n", (q % 4) * 15)
                    .replace("T06", &format!("T{:02}", 6 + q / 4)),
            );
        }
        let m = parse(&text).expect("parse");
        assert!(m.gaps().is_empty(), "{:?}", m.gaps());
        assert_eq!(rows(&m)[4], (t(4.0), t(5.0), 100.0));
        // Two missing rows in an hourly series: the value holds one hour, two hours are a gap.
        let g = parse(
            "timestamp,g_per_kwh\n\
             2024-03-04T00:00:00Z,100\n\
             2024-03-04T01:00:00Z,200\n\
             2024-03-04T04:00:00Z,300\n\
             2024-03-04T05:00:00Z,400\n",
        )
        .expect("parse");
        assert_eq!(g.gaps(), vec![(t(2.0), t(4.0))]);
        assert_eq!(s.source(), "s.csv (column g_per_kwh)");
        assert_eq!(s.signal(), Signal::Average);
    }

    #[test]
    fn offsets_and_the_space_form_are_the_same_utc_instants() {
        // 01:00+01:00 is 00:00Z; 2024-03-04 02:30:00+02:30 is 00:00Z too.
        let a = parse("timestamp,g_per_kwh\n2024-03-04T01:00:00+01:00,100\n2024-03-04 02:30:00+02:30,200\n2024-03-04T02:00:00Z,300\n");
        assert!(
            err_is_order(a),
            "01:00+01:00 and 02:30+02:30 are one instant"
        );
        let s = parse(
            "timestamp,g_per_kwh\n\
             2024-03-04T01:00:00+01:00,100\n\
             2024-03-04 00:00:00-01:00,200\n",
        )
        .expect("parse");
        assert_eq!(
            rows(&s),
            vec![(t(0.0), t(1.0), 100.0), (t(1.0), t(2.0), 200.0)]
        );
        let z = parse("timestamp,g_per_kwh\n2024-03-04T00:00:00Z,100\n2024-03-04T01:00:00Z,200\n")
            .expect("parse");
        assert_eq!(s.intervals(), z.intervals());
    }

    fn err_is_order(r: Result<IntensitySeries, GridError>) -> bool {
        matches!(
            r,
            Err(GridError::Order {
                line: 3,
                previous: 2,
                ..
            })
        )
    }

    #[test]
    fn dst_changes_nothing_in_utc() {
        // Europe's clocks went forward on 2024-03-31 at 01:00 UTC (02:00 CET -> 03:00 CEST).
        // Hourly local stamps across the change are contiguous UTC hours 23:00Z..03:00Z.
        let s = parse(
            "timestamp,g_per_kwh\n\
             2024-03-31T00:00:00+01:00,100\n\
             2024-03-31T01:00:00+01:00,200\n\
             2024-03-31T03:00:00+02:00,300\n\
             2024-03-31T04:00:00+02:00,400\n",
        )
        .expect("parse");
        let u = |s: &str| s.parse::<Timestamp>().expect("ts");
        assert_eq!(s.start(), u("2024-03-30T23:00:00Z"));
        assert_eq!(s.end(), u("2024-03-31T03:00:00Z"));
        assert!(s.gaps().is_empty());
        assert!(s
            .intervals()
            .iter()
            .all(|iv| iv.duration().as_secs() == 3600));
    }

    #[test]
    fn intervals_with_a_named_column_and_empty_cells_as_gaps() {
        let text = "from,to,forecast,actual,index\n\
             2023-01-01 00:00:00+00:00,2023-01-01 00:30:00+00:00,73,72.0,low\n\
             2023-01-01 00:30:00+00:00,2023-01-01 01:00:00+00:00,63,,low\n\
             2023-01-01 01:00:00+00:00,2023-01-01 01:30:00+00:00,71,80.0,low\n\
             2023-01-01 02:00:00+00:00,2023-01-01 02:30:00+00:00,71,90.0,low\n";
        let opts = CsvOptions::default().with_column("Actual");
        let s = parse_csv(text.as_bytes(), "gb.csv", &opts).expect("parse");
        let u = |s: &str| s.parse::<Timestamp>().expect("ts");
        assert_eq!(s.intervals().len(), 3);
        assert_eq!(
            s.gaps(),
            vec![
                (u("2023-01-01T00:30:00Z"), u("2023-01-01T01:00:00Z")),
                (u("2023-01-01T01:30:00Z"), u("2023-01-01T02:00:00Z"))
            ]
        );
        assert_eq!(s.source(), "gb.csv (column actual)");
        let f = parse_csv(
            text.as_bytes(),
            "gb.csv",
            &CsvOptions::default().with_column("forecast"),
        )
        .expect("parse");
        assert_eq!(f.intervals()[1].intensity, GramsPerKwh(63.0));
    }

    #[test]
    fn a_named_time_column_reads_the_energinet_layout() {
        // The layout of dk_energinet_co2_prognosis_2024_hourly.csv.
        let text = "hour_start_utc,dk1_gco2_per_kwh,dk2_gco2_per_kwh\n\
             2024-03-04T00:00:00Z,172.0,171.4\n\
             2024-03-04T01:00:00Z,175.8,171.8\n";
        let opts = CsvOptions::default()
            .with_time_column("hour_start_utc")
            .with_column("dk2_gco2_per_kwh");
        let s = parse_csv(text.as_bytes(), "dk.csv", &opts).expect("parse");
        assert_eq!(
            rows(&s),
            vec![(t(0.0), t(1.0), 171.4), (t(1.0), t(2.0), 171.8)]
        );
        assert_eq!(s.signal(), Signal::Average);
        // The signal is the caller's statement about the data, never read from the file.
        let opts = opts.with_signal(Signal::Marginal);
        let m = parse_csv(text.as_bytes(), "m.csv", &opts).expect("parse");
        assert_eq!(m.signal(), Signal::Marginal);
        assert!(
            m.to_string().contains("(marginal signal, 2 intervals"),
            "{m}"
        );
    }

    #[test]
    fn a_bad_value_names_file_line_and_column() {
        let msg = err("timestamp,g_per_kwh\n2024-03-04T00:00:00Z,100\n2024-03-04T01:00:00Z,n/a\n");
        assert!(
            msg.starts_with("s.csv: line 3, column 2 (g_per_kwh): `n/a` is not a number;"),
            "{msg}"
        );
        let msg = err("timestamp,g_per_kwh\n2024-03-04T00:00:00Z,-5\n2024-03-04T01:00:00Z,1\n");
        assert!(
            msg.contains("line 2, column 2 (g_per_kwh): `-5` is negative"),
            "{msg}"
        );
        let msg = err("timestamp,g_per_kwh\n2024-03-04T00:00:00Z,inf\n2024-03-04T01:00:00Z,1\n");
        assert!(msg.contains("`inf` is not finite"), "{msg}");
    }

    #[test]
    fn a_bad_time_names_line_and_column() {
        let msg = err("timestamp,g_per_kwh\n2024-03-04T00:00:00Z,1\n2024-03-04T01:00:00,2\n");
        assert!(
            msg.starts_with(
                "s.csv: line 3, column 1 (timestamp): cannot read `2024-03-04T01:00:00` as a time"
            ),
            "{msg}"
        );
        assert!(msg.contains("write RFC 3339 with an offset"), "{msg}");
    }

    #[test]
    fn order_errors_name_the_lines() {
        let msg = err("timestamp,g_per_kwh\n2024-03-04T00:00:00Z,1\n2024-03-04T01:00:00Z,2\n2024-03-04T01:00:00Z,3\n");
        assert_eq!(
            msg,
            "s.csv: line 4: timestamp 2024-03-04T01:00:00Z repeats (line 3 before it); sort \
             the rows by time and remove duplicates and overlaps"
        );
        let msg = err("timestamp,g_per_kwh\n2024-03-04T01:00:00Z,1\n2024-03-04T00:00:00Z,2\n");
        assert!(msg.contains("line 3: timestamp 2024-03-04T00:00:00Z is earlier than 2024-03-04T01:00:00Z (line 2"), "{msg}");
        let msg = err("from,to,g_per_kwh\n2024-03-04T00:00:00Z,2024-03-04T02:00:00Z,1\n2024-03-04T01:00:00Z,2024-03-04T03:00:00Z,2\n");
        assert!(
            msg.contains("line 3: interval 2024-03-04T01:00:00Z..2024-03-04T03:00:00Z overlaps 2024-03-04T00:00:00Z..2024-03-04T02:00:00Z (line 2"),
            "{msg}"
        );
        let msg = err("from,to,g_per_kwh\n2024-03-04T00:00:00Z,2024-03-04T01:00:00Z,1\n2024-03-04T00:00:00Z,2024-03-04T01:00:00Z,1\n");
        assert!(
            msg.contains("line 3: interval") && msg.contains("repeats the start"),
            "{msg}"
        );
        let msg = err("from,to,g_per_kwh\n2024-03-04T01:00:00Z,2024-03-04T01:00:00Z,1\n");
        assert!(
            msg.contains("line 2: the interval") && msg.contains("empty or reversed"),
            "{msg}"
        );
    }

    #[test]
    fn header_and_row_count_errors() {
        let msg = err("time,g_per_kwh\n2024-03-04T00:00:00Z,1\n");
        assert!(
            msg.contains("the header `time,g_per_kwh` has no time columns"),
            "{msg}"
        );
        let msg = err("timestamp,value\n2024-03-04T00:00:00Z,1\n");
        assert!(
            msg.contains("no column `g_per_kwh`; name the value column, one of: timestamp,value"),
            "{msg}"
        );
        let msg = err("timestamp,g_per_kwh\n2024-03-04T00:00:00Z,1\n");
        assert!(msg.contains("at least two rows"), "{msg}");
        let opts = CsvOptions::default().with_time_column("time_utc");
        let msg = parse_csv("timestamp,g_per_kwh\n".as_bytes(), "s.csv", &opts)
            .expect_err("no time_utc")
            .to_string();
        assert!(msg.contains("no column `time_utc`"), "{msg}");
        let msg = err("timestamp,g_per_kwh\n2024-03-04T00:00:00Z,\n2024-03-04T01:00:00Z,\n");
        assert!(msg.contains("has no intervals"), "{msg}");
        let msg = err("timestamp,g_per_kwh\n2024-03-04T00:00:00Z,1,7\n");
        assert!(msg.starts_with("s.csv: line 2:"), "{msg}");
        let e =
            read_csv(Path::new("/nonexistent/s.csv"), &CsvOptions::default()).expect_err("missing");
        assert!(e
            .to_string()
            .starts_with("cannot read intensity series /nonexistent/s.csv"));
    }

    #[test]
    fn an_endless_line_stops_at_the_line_limit_naming_the_line() {
        // /dev/zero: NUL bytes with no newline, forever.
        let zeros = std::io::repeat(0).take(10 * MAX_LINE_BYTES);
        let e = parse_csv(zeros, "/dev/zero", &CsvOptions::default()).expect_err("refused");
        assert!(matches!(e, GridError::LineTooLong { line: 1, .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with("/dev/zero: line 1 is longer than 64 KiB"),
            "{e}"
        );
        let mut long = b"timestamp,g_per_kwh\n2024-03-04T00:00:00Z,1\n".to_vec();
        long.extend(std::iter::repeat_n(b'x', 70_000));
        let e = parse_csv(&long[..], "s.csv", &CsvOptions::default()).expect_err("refused");
        assert!(matches!(e, GridError::LineTooLong { line: 3, .. }), "{e}");
    }

    #[test]
    fn an_input_over_the_size_limit_is_refused() {
        let text = "timestamp,g_per_kwh\n2024-03-04T00:00:00Z,1\n2024-03-04T01:00:00Z,2\n";
        let e = parse_limited(text.as_bytes(), "s.csv", &CsvOptions::default(), 1024, 40)
            .expect_err("refused");
        assert!(matches!(e, GridError::TooLarge { .. }), "{e}");
        assert!(
            parse_limited(text.as_bytes(), "s.csv", &CsvOptions::default(), 1024, 4096).is_ok()
        );
    }

    #[test]
    fn a_directory_is_refused_as_not_a_file() {
        let e = read_csv(Path::new("/tmp"), &CsvOptions::default()).expect_err("dir");
        assert_eq!(
            e.to_string(),
            "cannot read intensity series /tmp: it is a directory; give a CSV file"
        );
    }

    #[test]
    fn errors_quote_at_most_80_characters_of_the_input() {
        let wide = "c".repeat(20_000);
        let msg = err(&format!("{wide}\n1\n"));
        assert!(msg.len() < 400, "{}", msg.len());
        assert!(msg.contains(&format!("`{}…`", "c".repeat(80))), "{msg}");
        let msg = err(&format!(
            "timestamp,g_per_kwh\n2024-03-04T00:00:00Z,{wide}\n"
        ));
        assert!(msg.len() < 400, "{}", msg.len());
        assert_eq!(quote("short"), "short");
        assert_eq!(quote(&"é".repeat(81)), format!("{}…", "é".repeat(80)));
    }

    #[test]
    fn a_value_above_100000_g_per_kwh_names_the_line_and_the_likely_unit() {
        let msg = err("timestamp,g_per_kwh\n2024-03-04T00:00:00Z,1e60\n2024-03-04T01:00:00Z,1\n");
        assert!(
            msg.starts_with("s.csv: line 2, column 2 (g_per_kwh): `1e60` is above 100,000 g/kWh"),
            "{msg}"
        );
        assert!(msg.contains("g/MWh"), "{msg}");
        assert!(parse(
            "timestamp,g_per_kwh\n2024-03-04T00:00:00Z,100000\n2024-03-04T01:00:00Z,1\n"
        )
        .is_ok());
    }

    #[test]
    fn an_ambiguous_header_is_refused_naming_it() {
        let msg = err("timestamp,g_per_kwh,g_per_kwh\n2024-03-04T00:00:00Z,1,2\n");
        assert!(
            msg.contains("the header `timestamp,g_per_kwh,g_per_kwh` is ambiguous: the column `g_per_kwh` appears more than once"),
            "{msg}"
        );
        let msg = err("timestamp,from,to,g_per_kwh\n2024-03-04T00:00:00Z,2024-03-04T00:00:00Z,2024-03-04T01:00:00Z,1\n");
        assert!(
            msg.contains("ambiguous: it has both `timestamp` (point samples) and `from`,`to`"),
            "{msg}"
        );
    }

    #[test]
    fn a_leap_second_is_refused_not_read_as_59() {
        let msg = err("timestamp,g_per_kwh\n2016-12-31T23:59:59Z,1\n2016-12-31T23:59:60Z,2\n2017-01-01T00:00:01Z,3\n");
        assert!(
            msg.starts_with("s.csv: line 3, column 1 (timestamp): cannot read `2016-12-31T23:59:60Z` as a time (a leap second"),
            "{msg}"
        );
    }

    proptest::proptest! {
        /// Whatever the header and cells, an error quotes a bounded part of them, and a value
        /// read is within 0..=100,000 g/kWh.
        #[test]
        fn errors_stay_short_and_values_stay_bounded(
            header in "[a-z_,]{0,400}",
            cell in "[0-9e.+-]{0,300}",
            long in 0usize..3,
        ) {
            let pad = "x".repeat(long * 500);
            let text = format!(
                "{header}{pad}\ntimestamp,g_per_kwh\n2024-03-04T00:00:00Z,{cell}{pad}\n"
            );
            match parse(&text) {
                Ok(s) => proptest::prop_assert!(s
                    .intervals()
                    .iter()
                    .all(|iv| (0.0..=MAX_G_PER_KWH).contains(&iv.intensity.value()))),
                Err(e) => {
                    let msg = e.to_string();
                    proptest::prop_assert!(msg.chars().count() < 700, "{}", msg);
                }
            }
            let text = format!(
                "timestamp,g_per_kwh\n2024-03-04T00:00:00Z,{cell}\n2024-03-04T01:00:00Z,1\n"
            );
            if let Ok(s) = parse(&text) {
                proptest::prop_assert!(s
                    .intervals()
                    .iter()
                    .all(|iv| (0.0..=MAX_G_PER_KWH).contains(&iv.intensity.value())));
            }
        }
    }
}
