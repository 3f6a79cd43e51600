//! Settings: flags, environment and config file merged into the library's typed inputs.
//! Every value is parsed with its unit here, and every error names the flag it came from, or
//! the config file and key.

use crate::cli::{HardwareArgs, OutputArgs, SiteArgs};
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use wattlens::catalog::Catalog;
use wattlens::estimate::datacenter::Breakdown;
use wattlens::estimate::resolve::HardwareInputs;
use wattlens::estimate::site::SiteInputs;
use wattlens::field::Field;
use wattlens::input::{parse_price, parse_range, parse_range_in, Dim};
use wattlens::plausible;
use wattlens::runner::McOptions;
use wattlens::uncertainty::fmt_num;
use wattlens::uncertainty::{Range, UnitRange, DEFAULT_SAMPLES, DEFAULT_SEED};

/// The config file: defaults for flags. Flags win over it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// A user catalog file, relative to the config file.
    pub catalog: Option<PathBuf>,
    /// Monte Carlo samples (1 to [`MAX_SAMPLES`]).
    #[serde(default, deserialize_with = "samples_in_bounds")]
    pub samples: Option<usize>,
    /// Monte Carlo seed.
    #[serde(default, deserialize_with = "whole_seed")]
    pub seed: Option<u64>,
    /// Site defaults, as the flags would be written (`grid = "FR"`, `pue = "1.2"`).
    #[serde(default)]
    pub site: ConfigSite,
    /// `[agent]`: `wattlens agent`'s settings, read by `commands/agent/config.rs`.
    #[serde(default)]
    pub agent: Option<toml::Table>,
}

/// `[site]` in the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSite {
    /// `--pue`.
    #[serde(default, deserialize_with = "text_or_number")]
    pub pue: Option<String>,
    /// `--grid`.
    pub grid: Option<String>,
    /// `--intensity`.
    #[serde(default, deserialize_with = "text_or_number")]
    pub intensity: Option<String>,
    /// `--market-intensity`.
    #[serde(default, deserialize_with = "text_or_number")]
    pub market_intensity: Option<String>,
    /// `--cfe`.
    #[serde(default, deserialize_with = "text_or_number")]
    pub cfe: Option<String>,
    /// `--wue`.
    #[serde(default, deserialize_with = "text_or_number")]
    pub wue: Option<String>,
    /// `--ewif`.
    #[serde(default, deserialize_with = "text_or_number")]
    pub ewif: Option<String>,
    /// `--price`.
    #[serde(default, deserialize_with = "text_or_number")]
    pub price: Option<String>,
    /// `--datacenter`.
    pub datacenter: Option<String>,
    /// `--cooling`.
    pub cooling: Option<String>,
    /// `--lifetime`.
    #[serde(default, deserialize_with = "text_or_number")]
    pub lifetime: Option<String>,
    /// The config file these came from, for messages.
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

impl ConfigSite {
    /// How a message names a value that came from this section: `key pue in [site] of config
    /// file wattlens.toml`.
    fn origin(&self, flag: &str) -> String {
        let key = flag.trim_start_matches("--").replace('-', "_");
        match &self.file {
            Some(f) => format!("{key} in [site] of config file {}", f.display()),
            None => format!("{key} in [site] of the config file"),
        }
    }
}

/// Reads a `[site]` value written as the flag would be (`pue = "1.2"`, `lifetime = "5y"`) or as
/// a bare TOML number (`pue = 1.2`), which means the same as the quoted number.
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a number or a quoted value with its unit (\"1.2\", \"400g/kWh\")")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            // `{:?}` keeps the shortest form that reads back (`1e300`, not 301 digits).
            Ok(Some(format!("{v:?}")))
        }
    }
    d.deserialize_any(V)
}

/// Reads the config file's `seed`: a whole number from 0 up (a float such as `1e300` is refused
/// with the value in a short form, not its 301 digits).
fn whole_seed<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number from 0 up")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v).map(Some).map_err(|_| {
                E::custom(format!(
                    "seed = {v} is out of range: give a whole number from 0 up"
                ))
            })
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Err(E::custom(format!(
                "seed = {} is not a whole number: give a whole number from 0 up, without a decimal point or exponent",
                fmt_num(v)
            )))
        }
    }
    d.deserialize_any(V)
}

/// The most Monte Carlo samples `--samples` or the config file may ask for: each sample of each
/// figure is held (4 bytes), so memory grows with the count (1M samples of a fleet estimate peak
/// at about 93 MB, so 10M at about 1 GB; 3e9 took 17.5 GB and 1e11 aborted).
pub const MAX_SAMPLES: usize = 10_000_000;

/// Reads the config file's `samples`: a whole number from 1 to [`MAX_SAMPLES`] (0 would leave
/// no sample to summarise; 1e11 would exhaust memory).
fn samples_in_bounds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    /// What a config file may hold under `samples`; anything but a number is refused by name.
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        Int(i64),
        Float(f64),
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    let give = format!("give a whole number from 1 to 10M ({MAX_SAMPLES})");
    #[allow(clippy::cast_precision_loss)]
    let v = match Given::deserialize(d)? {
        Given::Int(n) => n as f64,
        Given::Float(v) => v,
        Given::Text(t) => {
            return Err(serde::de::Error::custom(format!(
                "samples = {t:?} is text, not a number: write it without quotes; {give}"
            )))
        }
        Given::Other(_) => {
            return Err(serde::de::Error::custom(format!(
                "samples is not a number: {give}"
            )))
        }
    };
    if v.is_finite() && v.fract() != 0.0 {
        return Err(serde::de::Error::custom(format!(
            "samples = {} is not a whole number: {give}",
            fmt_num(v)
        )));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    if (1.0..=MAX_SAMPLES as f64).contains(&v) {
        Ok(Some(v as usize))
    } else {
        Err(serde::de::Error::custom(format!(
            "samples = {} is out of range: {give}",
            fmt_num(v)
        )))
    }
}

/// Treats an empty path variable (`WATTLENS_CATALOG=`) as unset, as shells and most tools do:
/// clap would otherwise read it as a flag given without its value, and every command would
/// fail without naming the variable. Call before the command line is parsed, while the process
/// has one thread.
pub fn unset_empty_env() {
    for var in [
        crate::env::CATALOG,
        crate::env::CONFIG,
        crate::env::SYSFS_ROOT,
        crate::env::PROCFS_ROOT,
        crate::env::HISTORY,
    ] {
        if std::env::var_os(var).is_some_and(|v| v.is_empty()) {
            std::env::remove_var(var);
        }
    }
}

/// Reads the config file, if one was named.
pub fn load_config(path: Option<&Path>) -> Result<(Config, Option<PathBuf>)> {
    let Some(path) = path else {
        return Ok((Config::default(), None));
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let cfg: Config = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        anyhow::anyhow!(
            "config file {} is malformed{}: {}",
            path.display(),
            line.map_or(String::new(), |l| format!(" at line {l}")),
            wattlens::input::short_numbers(e.message())
        )
    })?;
    let mut cfg = cfg;
    cfg.site.file = Some(path.to_path_buf());
    let dir = path.parent().map(Path::to_path_buf);
    Ok((cfg, dir))
}

/// The catalog: embedded, plus `--catalog` (or `WATTLENS_CATALOG`) or the config file's catalog.
/// An error names where the file was given.
pub fn catalog(flag: Option<&Path>, cfg: &Config, cfg_dir: Option<&Path>) -> Result<Catalog> {
    let (path, from) = match (flag, &cfg.catalog) {
        (Some(p), _) => (
            p.to_path_buf(),
            format!("--catalog (or {})", crate::env::CATALOG),
        ),
        // `catalog = ""` is unset, as an empty WATTLENS_CATALOG is.
        (None, Some(p)) if p.as_os_str().is_empty() => return Ok(Catalog::embedded()),
        (None, Some(p)) => (
            match cfg_dir {
                Some(d) if p.is_relative() => d.join(p),
                _ => p.clone(),
            },
            match &cfg.site.file {
                Some(f) => format!("catalog in config file {}", f.display()),
                None => "catalog in the config file".into(),
            },
        ),
        (None, None) => return Ok(Catalog::embedded()),
    };
    let cat = Catalog::with_user_file(&path).with_context(|| from)?;
    for w in cat.warnings() {
        eprintln!("wattlens: warning: {w}");
    }
    Ok(cat)
}

/// Checks the names `[site]` gives (`grid`, `datacenter`, `cooling`) against the catalog, so that
/// an unknown one is reported with the config file and key rather than as if a flag named it.
/// The config is checked as a whole, even where a flag overrides a value.
pub fn check_config_names(cfg: &ConfigSite, cat: &Catalog) -> Result<()> {
    if let Some(g) = &cfg.grid {
        cat.grids()?
            .get(g)
            .with_context(|| format!("invalid value for {}", cfg.origin("--grid")))?;
    }
    if let Some(n) = &cfg.datacenter {
        cat.datacenters()?
            .get(n)
            .with_context(|| format!("invalid value for {}", cfg.origin("--datacenter")))?;
    }
    if let Some(n) = &cfg.cooling {
        // The same answer as `--cooling`: the cooling presets, not every profile.
        let dcs = cat.datacenters()?;
        let why = match dcs.get(n) {
            Err(wattlens::catalog::CatalogError::Unknown { .. }) => {
                match wattlens::estimate::site::unknown_cooling(n, dcs) {
                    wattlens::estimate::EstimateError::Invalid { message, .. } => {
                        Some(crate::flags::msg(&message))
                    }
                    e => Some(crate::flags::error(&e)),
                }
            }
            Err(e) => return Err(e.into()),
            Ok(c) if c.kind.as_deref() != Some("cooling") => {
                let kind = c.kind.as_deref().unwrap_or("data-centre");
                let a = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                Some(format!(
                    "{:?} is {a} {kind} profile, not a cooling type; use datacenter for it",
                    c.name
                ))
            }
            Ok(_) => None,
        };
        if let Some(why) = why {
            bail!("invalid value for {}: {why}", cfg.origin("--cooling"));
        }
    }
    Ok(())
}

/// Parses a flag's value with units; the error names the flag.
pub fn range(flag: &str, text: Option<&str>, dim: Dim) -> Result<Option<Range>> {
    text.map(|t| parse_range(t, dim).with_context(|| format!("invalid value for {flag}")))
        .transpose()
}

/// Parses a flag whose bare numbers are in `unit` rather than the dimension's base unit
/// (`--days 54` means 54 d; `--checkpoint-minutes 1` means 1 min).
pub fn range_in(flag: &str, text: Option<&str>, dim: Dim, unit: &str) -> Result<Option<Range>> {
    text.map(|t| parse_range_in(t, dim, unit).with_context(|| format!("invalid value for {flag}")))
        .transpose()
}

/// Rejects a count that is not a whole number.
pub fn count(flag: &str, text: Option<&str>) -> Result<Option<Range>> {
    let r = range(flag, text, Dim::Count)?;
    match r.map(wattlens::limits::whole).transpose() {
        Ok(r) => Ok(r),
        Err(e) => bail!("invalid value for {flag}: {e}"),
    }
}

/// Site inputs from flags, falling back to the config file.
pub fn site(a: &SiteArgs, cfg: &ConfigSite) -> Result<SiteInputs> {
    // Values no site can have are refused before any warning about merely implausible ones;
    // errors and warnings name a value from the config file by its file and key, not the flag.
    let name = |flag: &str| name_of(a, cfg, flag);
    let s = crate::bounds::site(site_inputs(a, cfg)?, name)?;
    for w in implausible(&s) {
        // A value from the config file is named by its file and key, not the flag.
        let w = w.render(&|f| {
            let flag = crate::flags::flag(f);
            let from = name(flag);
            if from == flag {
                from
            } else {
                format!("{from}:")
            }
        });
        eprintln!("wattlens: warning: {w}");
    }
    Ok(s)
}

/// How messages name the value of a site flag: the flag when it was given (or neither was),
/// else the config file and key it came from.
pub fn name_of(a: &SiteArgs, cfg: &ConfigSite, flag: &str) -> String {
    let (given, conf) = match flag {
        "--pue" => (&a.pue, &cfg.pue),
        "--grid" => (&a.grid, &cfg.grid),
        "--intensity" => (&a.intensity, &cfg.intensity),
        "--market-intensity" => (&a.market_intensity, &cfg.market_intensity),
        "--cfe" => (&a.cfe, &cfg.cfe),
        "--wue" => (&a.wue, &cfg.wue),
        "--ewif" => (&a.ewif, &cfg.ewif),
        "--price" => (&a.price, &cfg.price),
        "--datacenter" => (&a.datacenter, &cfg.datacenter),
        "--cooling" => (&a.cooling, &cfg.cooling),
        "--lifetime" => (&a.lifetime, &cfg.lifetime),
        _ => return flag.to_string(),
    };
    if given.is_none() && conf.is_some() {
        cfg.origin(flag)
    } else {
        flag.to_string()
    }
}

/// Site values outside the plausible bounds of [`wattlens::plausible`]: almost always a unit
/// slip (kg for g, per MWh for per kWh). They are used as given, with a warning on stderr.
fn implausible(s: &SiteInputs) -> Vec<wattlens::field::Msg> {
    let checks = [
        (Field::Intensity, s.intensity.map(|r| r.range())),
        (
            Field::MarketIntensity,
            s.market_intensity.map(|r| r.range()),
        ),
        (Field::Pue, s.pue),
        (Field::Wue, s.wue),
        (Field::Ewif, s.ewif),
    ];
    let mut out: Vec<_> = checks
        .iter()
        .filter_map(|(field, r)| plausible::check(*field, r.as_ref()?))
        .collect();
    out.extend(
        s.price
            .as_ref()
            .and_then(|p| plausible::check_price(&p.per_kwh, p.currency.as_deref())),
    );
    out
}

/// Parses a power flag (bare numbers in W) and warns when the value is outside its plausible
/// bounds (a figure in kW given as a bare number).
pub fn power(flag: &str, text: Option<&str>) -> Result<Option<Range>> {
    // Values no hardware can have are refused before any warning about merely implausible ones.
    let r = crate::bounds::check(flag, range(flag, text, Dim::Power)?)?;
    let warning = crate::flags::field(flag).and_then(|f| plausible::check(f, r.as_ref()?));
    if let Some(w) = warning {
        eprintln!("wattlens: warning: {}", crate::flags::msg(&w));
    }
    Ok(r)
}

/// Warns when the PUE a `--breakdown` implies (1 / IT share) is outside the bounds `--pue`
/// is held to, as `--pue` would.
pub fn warn_breakdown_pue(b: Option<&Breakdown>) {
    let Some(b) = b else {
        return;
    };
    let pue = Range::point(b.pue());
    if let Some(w) = plausible::check(Field::Pue, &pue).map(|m| crate::flags::msg(&m)) {
        let given = format!("--pue {} ", fmt_num(b.pue()));
        eprintln!(
            "wattlens: warning: --breakdown implies a PUE of {} (1 / IT share), which {}",
            fmt_num(b.pue()),
            w.strip_prefix(&given).unwrap_or(&w)
        );
    }
}

pub(crate) fn site_inputs(a: &SiteArgs, cfg: &ConfigSite) -> Result<SiteInputs> {
    // Each value with the name its errors give: the flag, or the config file and key.
    let pick = |flag: &'static str, given: &Option<String>, conf: &Option<String>| {
        (
            given.clone().or_else(|| conf.clone()),
            name_of(a, cfg, flag),
        )
    };
    let (pue, pue_from) = pick("--pue", &a.pue, &cfg.pue);
    let (intensity, intensity_from) = pick("--intensity", &a.intensity, &cfg.intensity);
    let (market, market_from) = pick(
        "--market-intensity",
        &a.market_intensity,
        &cfg.market_intensity,
    );
    let (cfe, cfe_from) = pick("--cfe", &a.cfe, &cfg.cfe);
    let (wue, wue_from) = pick("--wue", &a.wue, &cfg.wue);
    let (ewif, ewif_from) = pick("--ewif", &a.ewif, &cfg.ewif);
    let (price, price_from) = pick("--price", &a.price, &cfg.price);
    let (lifetime, lifetime_from) = pick("--lifetime", &a.lifetime, &cfg.lifetime);
    Ok(SiteInputs {
        pue: range(&pue_from, pue.as_deref(), Dim::Factor)?
            .map(|r| check_pue(&pue_from, r))
            .transpose()?,
        grid: a.grid.clone().or_else(|| cfg.grid.clone()),
        intensity: range(&intensity_from, intensity.as_deref(), Dim::Intensity)?
            .map(UnitRange::from_range),
        market_intensity: range(&market_from, market.as_deref(), Dim::Intensity)?
            .map(UnitRange::from_range),
        cfe: range(&cfe_from, cfe.as_deref(), Dim::Fraction)?,
        wue: range(&wue_from, wue.as_deref(), Dim::WaterIntensity)?,
        ewif: range(&ewif_from, ewif.as_deref(), Dim::WaterIntensity)?,
        price: price
            .map(|p| parse_price(&p).with_context(|| format!("invalid value for {price_from}")))
            .transpose()?,
        datacenter: a.datacenter.clone().or_else(|| cfg.datacenter.clone()),
        cooling: a.cooling.clone().or_else(|| cfg.cooling.clone()),
        lifetime_h: range_in(&lifetime_from, lifetime.as_deref(), Dim::Time, "y")?,
        country: a.equivalent_country.clone(),
        derived_pue: None,
        from_config: from_config(a, cfg),
    })
}

/// The site inputs whose value comes from the config file (not given as a flag).
fn from_config(a: &SiteArgs, cfg: &ConfigSite) -> Vec<Field> {
    [
        (Field::Pue, &a.pue, &cfg.pue),
        (Field::Grid, &a.grid, &cfg.grid),
        (Field::Intensity, &a.intensity, &cfg.intensity),
        (
            Field::MarketIntensity,
            &a.market_intensity,
            &cfg.market_intensity,
        ),
        (Field::Cfe, &a.cfe, &cfg.cfe),
        (Field::Wue, &a.wue, &cfg.wue),
        (Field::Ewif, &a.ewif, &cfg.ewif),
        (Field::Price, &a.price, &cfg.price),
        (Field::Datacenter, &a.datacenter, &cfg.datacenter),
        (Field::Cooling, &a.cooling, &cfg.cooling),
        (Field::Lifetime, &a.lifetime, &cfg.lifetime),
    ]
    .into_iter()
    .filter(|(_, given, conf)| given.is_none() && conf.is_some())
    .map(|(f, _, _)| f)
    .collect()
}

fn check_pue(from: &str, r: Range) -> Result<Range> {
    wattlens::limits::pue(r).map_err(|e| anyhow::anyhow!("invalid value for {from}: {e}"))
}

/// Hardware inputs from flags.
pub fn hardware(a: &HardwareArgs) -> Result<HardwareInputs> {
    Ok(HardwareInputs {
        gpu: a.gpu.clone(),
        server: a.server.clone(),
        server_power: power("--server-power", a.server_power.as_deref())?,
        gpus_per_server: count("--gpus-per-server", a.gpus_per_server.as_deref())?,
        load: range("--load", a.load.as_deref(), Dim::Fraction)?,
    })
}

/// Sampling options from flags and config.
pub fn mc(o: &OutputArgs, cfg: &Config) -> Result<McOptions> {
    mc_with(o.samples.as_deref(), o.seed, cfg, DEFAULT_SAMPLES)
}

/// Sampling options from `--samples`, `--seed` and config, with a command's own default count.
pub fn mc_with(
    samples: Option<&str>,
    seed: Option<u64>,
    cfg: &Config,
    default_samples: usize,
) -> Result<McOptions> {
    let samples = match samples {
        Some(s) => {
            let n = parse_range(s, Dim::Count).context("invalid value for --samples")?;
            #[allow(clippy::cast_precision_loss)]
            if !n.is_point() || n.lo < 1.0 || n.lo.fract() != 0.0 || n.lo > MAX_SAMPLES as f64 {
                bail!(
                    "invalid value for --samples: give a whole number from 1 to 10M ({MAX_SAMPLES})"
                );
            }
            n.lo as usize
        }
        None => cfg.samples.unwrap_or(default_samples),
    };
    Ok(McOptions {
        samples,
        seed: seed.or(cfg.seed).unwrap_or(DEFAULT_SEED),
        ..McOptions::default()
    })
}

/// The period from `--hours` or `--days`, in hours.
pub fn period(hours: Option<&str>, days: Option<&str>) -> Result<Option<Range>> {
    if hours.is_some() && days.is_some() {
        bail!("--hours and --days cannot be used together: give the period once");
    }
    match (hours, days) {
        (Some(h), _) => range_in("--hours", Some(h), Dim::Time, "h"),
        (_, Some(d)) => range_in("--days", Some(d), Dim::Time, "d"),
        _ => Ok(None),
    }
}
