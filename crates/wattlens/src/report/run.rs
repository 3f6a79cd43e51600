//! Rendering a measured run: the summary table `wattlens run` prints on stderr, and a row in
//! CodeCarbon's `emissions.csv` layout so that existing dashboards keep working.

use super::{unit_for, Scale};
use crate::figure::Figure;
use crate::measure::WindowFigures;
use crate::result::Report;
// The run summary prints numbers in the one human format of every renderer.
use crate::uncertainty::fmt_human as fmt_num;
use crate::units::{Bytes, LitresPerKwh};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt::Write;

/// Windows listed one by one in the summary; the JSON has them all.
const SHOWN_WINDOWS: usize = 50;

/// The summary of a measured run: duration, energy by component with its method, facility
/// energy, carbon, water and cost, each as P50 with its P5..P95 range.
#[must_use]
pub fn run_summary(e: &Report, windows: &[WindowFigures]) -> String {
    let mut out = String::new();
    let run = e.details.run();
    let duration = run.map(|r| r.duration_s);
    let code = run.and_then(|r| r.exit_code);
    let _ = write!(out, "wattlens: {} s", fmt_num(duration.unwrap_or(0.0)));
    if let Some(c) = code {
        let _ = write!(out, ", exit code {c}");
    }
    if let Some(r) = run {
        let _ = write!(out, ", charged to: {}", r.attribution.policy);
    }
    out.push('\n');
    let line = |out: &mut String, label: &str, key: Figure, scale: Scale, note: &str| {
        if let Some(p) = e.get(key) {
            let cur = if key == Figure::Cost {
                e.currency.as_str()
            } else {
                ""
            };
            let (k, unit) = unit_for(scale, p.p50, cur);
            let _ = writeln!(
                out,
                "  {label:<26} {:>10} {unit:<7} ({} .. {}) {note}",
                fmt_num(p.p50 * k),
                fmt_num(p.p5 * k),
                fmt_num(p.p95 * k)
            );
        }
    };
    for c in &e.components {
        line(&mut out, c.name, c.key, Scale::Energy, c.method.as_str());
    }
    line(&mut out, "IT energy", Figure::ItEnergy, Scale::Energy, "");
    line(
        &mut out,
        "facility energy (x PUE)",
        Figure::FacilityEnergy,
        Scale::Energy,
        "",
    );
    line(
        &mut out,
        "carbon, location-based",
        Figure::OperationalCarbon,
        Scale::Mass,
        "",
    );
    line(
        &mut out,
        "carbon, market-based",
        Figure::MarketCarbon,
        Scale::Mass,
        "",
    );
    line(
        &mut out,
        "embodied carbon",
        Figure::EmbodiedCarbon,
        Scale::Mass,
        "",
    );
    if e.carbon_basis == crate::grid::CarbonBasis::Series {
        let _ = writeln!(out, "  carbon intensity: {}", e.intensity_scope);
    }
    line(&mut out, "water consumed", Figure::Water, Scale::Water, "");
    line(
        &mut out,
        "electricity cost",
        Figure::Cost,
        Scale::Plain(""),
        "",
    );
    if !windows.is_empty() {
        let _ = writeln!(
            out,
            "  windows (WATTLENS_MARKS): P50 facility energy and carbon (operational + embodied \
             for the window's own span), with P5 .. P95"
        );
        for w in windows.iter().take(SHOWN_WINDOWS) {
            let (e, c) = (&w.facility_energy_kwh, &w.carbon_kgco2e);
            let (ke, ue) = unit_for(Scale::Energy, e.p50, "");
            let (kc, uc) = unit_for(Scale::Mass, c.p50, "");
            let _ = writeln!(
                out,
                "    {:<24} {:>8} s  {} {ue} ({} .. {})  {} {uc} ({} .. {}){}",
                w.name,
                fmt_num(w.duration_s),
                fmt_num(e.p50 * ke),
                fmt_num(e.p5 * ke),
                fmt_num(e.p95 * ke),
                fmt_num(c.p50 * kc),
                fmt_num(c.p5 * kc),
                fmt_num(c.p95 * kc),
                if w.closed_by_run_end {
                    "  (no end mark)"
                } else {
                    ""
                }
            );
        }
        if windows.len() > SHOWN_WINDOWS {
            let _ = writeln!(
                out,
                "    ... {} more windows (all of them in the --json output)",
                windows.len() - SHOWN_WINDOWS
            );
        }
    }
    for n in &e.notes {
        let _ = writeln!(out, "  note: {n}");
    }
    out
}

/// The run's `wattlens.footprint/v1` object with its `windows` (none: no key), as a tree, for
/// the tests; [`write_run_json`] writes the same without building one.
#[cfg(test)]
pub(crate) fn run_json(e: &Report, windows: &[WindowFigures]) -> serde_json::Value {
    let mut v = serde_json::to_value(e).expect("a report serialises");
    if !windows.is_empty() {
        v["windows"] = serde_json::to_value(windows).expect("windows serialise");
    }
    v
}

/// Writes the run's `wattlens.footprint/v1` object with its `windows` (none: no key; pretty,
/// with a final newline) to `w`, the windows streamed one by one
/// rather than built as a JSON tree (100,000 windows would take a gigabyte that way).
///
/// # Errors
/// When writing fails.
pub fn write_run_json<W: std::io::Write>(
    mut w: W,
    e: &Report,
    windows: &[WindowFigures],
) -> std::io::Result<()> {
    let base = serde_json::to_value(e).map_err(std::io::Error::other)?;
    let Some(map) = base.as_object() else {
        return Ok(());
    };
    serde_json::to_writer_pretty(&mut w, &WithWindows { map, windows })?;
    w.write_all(b"\n")?;
    w.flush()
}

/// An object's keys in order, with `windows` put in its sorted place.
struct WithWindows<'a> {
    map: &'a serde_json::Map<String, serde_json::Value>,
    windows: &'a [WindowFigures],
}

impl Serialize for WithWindows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        let mut pending = !self.windows.is_empty();
        for (k, v) in self.map {
            if pending && k.as_str() > "windows" {
                m.serialize_entry("windows", self.windows)?;
                pending = false;
            }
            if k != "windows" {
                m.serialize_entry(k, v)?;
            }
        }
        if pending {
            m.serialize_entry("windows", self.windows)?;
        }
        m.end()
    }
}

/// CodeCarbon 3.x's `emissions.csv` columns (3.3), written when a new file is started.
pub const CODECARBON_COLUMNS: [&str; 38] = [
    "timestamp",
    "project_name",
    "run_id",
    "experiment_id",
    "duration",
    "emissions",
    "emissions_rate",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "water_consumed",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "os",
    "python_version",
    "codecarbon_version",
    "cpu_count",
    "cpu_model",
    "gpu_count",
    "gpu_model",
    "longitude",
    "latitude",
    "ram_total_size",
    "tracking_mode",
    "cpu_utilization_percent",
    "gpu_utilization_percent",
    "ram_utilization_percent",
    "ram_used_gb",
    "on_cloud",
    "pue",
    "wue",
];

/// Facts about the run that the footprint does not hold, for the CSV row, each in the unit
/// and form CodeCarbon writes (empty text where unknown).
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// ISO 8601 time of the end of the run.
    pub timestamp: String,
    /// `--tag project=...`, else `wattlens`.
    pub project: String,
    /// A unique id of the run.
    pub run_id: String,
    /// `--tag experiment=...`.
    pub experiment: String,
    /// The grid's country name (`France`), when known.
    pub country_name: String,
    /// The grid's country as ISO 3166-1 alpha-3 (`FRA`), when known.
    pub country_iso_code: String,
    /// The cloud provider of a cloud grid (`gcp`, `aws`, `azure`), else empty.
    pub cloud_provider: String,
    /// The cloud region of a cloud grid (`europe-west1`), else empty.
    pub cloud_region: String,
    /// Logical CPUs.
    pub cpu_count: u32,
    /// The CPU's model name as `/proc/cpuinfo` gives it, when known.
    pub cpu_model: String,
    /// GPUs charged.
    pub gpu_count: usize,
    /// Installed memory (written in GiB, 2^30 bytes, as CodeCarbon writes it).
    pub ram_total: Bytes,
    /// The PUE used (a range's midpoint).
    pub pue: f64,
    /// The on-site WUE used, per kWh of IT energy (a range's midpoint).
    pub wue: LitresPerKwh,
    /// `machine` or `process`.
    pub tracking_mode: String,
    /// CPU time of the measured processes over the CPU time available, %.
    pub cpu_utilization_percent: f64,
}

/// One `emissions.csv` row (P50 values), in the column order of `header` when the file already
/// has one (any CodeCarbon version: unknown columns are left empty), else with
/// [`CODECARBON_COLUMNS`] and the header line first (a 2.x file keeps its 32 columns).
///
/// Mapping: energies in kWh (`cpu_energy` = CPU active + idle share, `ram_energy` = DRAM,
/// `energy_consumed` = facility energy, rest of server and PUE included), powers are averages
/// in W, `emissions` is location-based operational carbon in kg (CodeCarbon has no embodied
/// carbon), `emissions_rate` kg/s, `water_consumed` L of on-site water (`wue` x IT energy, as
/// CodeCarbon counts it; the generation water is in the JSON only), `ram_total_size` GiB,
/// `pue` and `wue` the values used to 3 significant figures, the place as CodeCarbon writes
/// it (`country_iso_code` alpha-3, a cloud grid's provider and region in `cloud_provider` and
/// `cloud_region` with `on_cloud` `Y`).
///
/// # Errors
/// When the CSV writer fails.
pub fn codecarbon_row(
    e: &Report,
    info: &RunInfo,
    header: Option<&[String]>,
) -> Result<String, csv::Error> {
    let p50 = |k: Figure| e.get(k).map_or(0.0, |p| p.p50);
    let duration = e.details.run().map_or(0.0, |r| r.duration_s);
    let cpu = p50(Figure::ComponentCpu) + p50(Figure::ComponentCpuIdle);
    let gpu = p50(Figure::ComponentGpu);
    let ram = p50(Figure::ComponentDram);
    let power = |kwh: f64| {
        if duration > 0.0 {
            kwh * 3.6e6 / duration
        } else {
            0.0
        }
    };
    let emissions = p50(Figure::OperationalCarbon);
    let value = |col: &str| -> String {
        match col {
            "timestamp" => info.timestamp.clone(),
            "project_name" => info.project.clone(),
            "run_id" => info.run_id.clone(),
            "experiment_id" => info.experiment.clone(),
            "duration" => duration.to_string(),
            "emissions" => emissions.to_string(),
            "emissions_rate" => (if duration > 0.0 {
                emissions / duration
            } else {
                0.0
            })
            .to_string(),
            "cpu_power" => power(cpu).to_string(),
            "gpu_power" => power(gpu).to_string(),
            "ram_power" => power(ram).to_string(),
            "cpu_energy" => cpu.to_string(),
            "gpu_energy" => gpu.to_string(),
            "ram_energy" => ram.to_string(),
            "energy_consumed" => p50(Figure::FacilityEnergy).to_string(),
            "water_consumed" => p50(Figure::OnsiteWater).to_string(),
            "country_name" => info.country_name.clone(),
            "country_iso_code" => info.country_iso_code.clone(),
            "cloud_provider" => info.cloud_provider.clone(),
            "cloud_region" => info.cloud_region.clone(),
            "cpu_model" => info.cpu_model.clone(),
            "os" => std::env::consts::OS.to_string(),
            "codecarbon_version" => format!("wattlens {}", env!("CARGO_PKG_VERSION")),
            "cpu_count" => info.cpu_count.to_string(),
            "gpu_count" => info.gpu_count.to_string(),
            "ram_total_size" => significant(info.ram_total.0 / f64::from(1u32 << 30), 4),
            "tracking_mode" => info.tracking_mode.clone(),
            "on_cloud" => if info.cloud_provider.is_empty() {
                "N"
            } else {
                "Y"
            }
            .to_string(),
            "cpu_utilization_percent" => info.cpu_utilization_percent.to_string(),
            "wue" => significant(info.wue.0, 3),
            "pue" => significant(info.pue, 3),
            _ => String::new(),
        }
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    // (A finite value is written as Rust prints it, the shortest text that reads back exact.)
    let cols: Vec<String> = match header {
        Some(h) => h.to_vec(),
        None => {
            w.write_record(CODECARBON_COLUMNS)?;
            CODECARBON_COLUMNS
                .iter()
                .map(|s| (*s).to_string())
                .collect()
        }
    };
    w.write_record(cols.iter().map(|c| value(c)))?;
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `x` to `digits` significant figures, as the shortest text (`1.2`, `60.82`, `0`).
fn significant(x: f64, digits: i32) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x.is_finite() {
            "0".into()
        } else {
            String::new()
        };
    }
    // Float to int: the exponent of a finite f64 is within +-330.
    #[allow(clippy::cast_possible_truncation)]
    let exp = x.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits - 1 - exp);
    let r = (x * scale).round() / scale;
    // The rounding again in decimal text: `r` may carry a last-bit error (0.30000000000000004).
    let decimals = usize::try_from((digits - 1 - exp).max(0)).unwrap_or(0);
    let text = format!("{r:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::significant;

    #[test]
    fn significant_figures_are_short_and_exact() {
        assert_eq!(significant(1.2, 3), "1.2");
        assert_eq!(significant(1.199_999_999_999_999_8, 3), "1.2");
        assert_eq!(significant(0.3 + 1e-17, 3), "0.3");
        assert_eq!(significant(60.816_143_035_888_67, 4), "60.82");
        assert_eq!(significant(1234.5, 3), "1230");
        assert_eq!(significant(0.0, 3), "0");
        assert_eq!(significant(f64::NAN, 3), "");
    }

    proptest::proptest! {
        /// Any finite value: the text reads back within half a unit of the third figure, and
        /// holds at most three significant digits (no 16-digit float noise in a CSV cell).
        #[test]
        fn three_significant_figures_read_back_close(m in 1.0f64..10.0, e in -12i32..12, neg: bool) {
            let x = if neg { -m } else { m } * 10f64.powi(e);
            let text = significant(x, 3);
            let back: f64 = text.parse().expect("a number");
            proptest::prop_assert!((back - x).abs() <= 5.000_001e-3 * x.abs(), "{x} -> {text}");
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            let digits = digits.trim_start_matches('0').trim_end_matches('0');
            proptest::prop_assert!(digits.len() <= 3, "{x} -> {text}");
        }
    }
}
