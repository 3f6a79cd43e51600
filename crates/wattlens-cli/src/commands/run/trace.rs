//! What a trace remembers of its run: the settings that change the footprint go into the
//! header when recording and are the replay's defaults (a flag given at replay overrides one,
//! with a note on stderr and in the JSON); and who, where and when for the run's JSON.

use crate::cli::{Charge, RunArgs, SiteArgs};
use crate::settings::ConfigSite;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::Path;
use wattlens::catalog::Catalog;
use wattlens::explain::{Assumption, Origin};
use wattlens::footprint::Param;
use wattlens::source::replay::{
    Header, Settings, TraceError, TraceReader, MAX_INTERVAL_S, MIN_INTERVAL_S,
};
use wattlens::uncertainty::{fmt_input, Range};

/// Opens a trace for `--replay`; a header's impossible interval is said with the flag that
/// records it.
pub(super) fn open(path: &Path) -> Result<TraceReader> {
    TraceReader::open(path)
        .map_err(|e| match e {
            TraceError::Interval { path, line, value } => anyhow::anyhow!(
                "{}:{line}: header: interval_s = {value} is impossible; --interval records \
                 from {} to {} s",
                path.display(),
                fmt_input(MIN_INTERVAL_S),
                fmt_input(MAX_INTERVAL_S)
            ),
            e => e.into(),
        })
        .context("--replay")
}

/// This machine's host name (`uname -n`).
pub(super) fn host_name() -> Option<String> {
    let u = rustix::system::uname();
    let name = u.nodename().to_string_lossy().into_owned();
    (!name.is_empty()).then_some(name)
}

/// The site flags of a run as recorded: flag name (without `--`) and value, the config file's
/// value where no flag was given.
pub(super) fn site_map(a: &SiteArgs, cfg: &ConfigSite) -> BTreeMap<String, String> {
    let pairs = [
        ("pue", &a.pue, &cfg.pue),
        ("grid", &a.grid, &cfg.grid),
        ("intensity", &a.intensity, &cfg.intensity),
        (
            "market-intensity",
            &a.market_intensity,
            &cfg.market_intensity,
        ),
        ("cfe", &a.cfe, &cfg.cfe),
        ("wue", &a.wue, &cfg.wue),
        ("ewif", &a.ewif, &cfg.ewif),
        ("price", &a.price, &cfg.price),
        ("datacenter", &a.datacenter, &cfg.datacenter),
        ("cooling", &a.cooling, &cfg.cooling),
        ("lifetime", &a.lifetime, &cfg.lifetime),
        ("equivalent-country", &a.equivalent_country, &None),
    ];
    pairs
        .into_iter()
        .filter_map(|(k, flag, conf)| {
            flag.clone()
                .or_else(|| conf.clone())
                .map(|v| (k.to_string(), v))
        })
        .collect()
}

/// Where each replay setting came from, for the notes and the JSON.
#[derive(Debug, Default)]
pub(super) struct Replayed {
    /// The trace.
    pub path: String,
    /// The recorded settings (absent for a trace of an older wattlens).
    pub recorded: Option<Settings>,
    /// `(setting, recorded, used)` where a flag overrode the trace.
    pub overridden: Vec<(String, String, String)>,
}

impl Replayed {
    pub(super) fn new(path: &Path, header: &Header) -> Self {
        Self {
            path: path.display().to_string(),
            recorded: header.settings.clone(),
            overridden: Vec::new(),
        }
    }

    /// Notes for the summary and the JSON.
    pub(super) fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.recorded.is_none() {
            out.push(format!(
                "{}: the trace does not record how it was measured (an older wattlens): replayed \
                 with this wattlens's defaults (--charge processes, this catalog's coefficients) \
                 unless flags say otherwise",
                self.path
            ));
        }
        for (k, rec, used) in &self.overridden {
            let what = if k == "cpu-tdp" || k == "server" {
                "CPU rating"
            } else {
                k.as_str()
            };
            out.push(format!(
                "replay: --{k} {used} overrides the trace's recorded {what} ({rec})"
            ));
        }
        out
    }

    /// The `replay` object of the JSON.
    pub(super) fn to_json(&self) -> wattlens::result::Replay {
        wattlens::result::Replay {
            trace: self.path.clone(),
            recorded_settings: self.recorded.clone(),
            overridden: self
                .overridden
                .iter()
                .map(|(k, rec, used)| wattlens::result::Override {
                    setting: k.clone(),
                    recorded: rec.clone(),
                    used: used.clone(),
                })
                .collect(),
        }
    }

    /// The site flags: those given, else the recorded ones.
    pub(super) fn site_args(&mut self, a: &SiteArgs) -> SiteArgs {
        let mut out = a.clone();
        let Some(rec) = self.recorded.as_ref().map(|s| s.site.clone()) else {
            return out;
        };
        for (k, field) in site_fields(&mut out) {
            match (field.as_ref(), rec.get(k)) {
                (None, Some(v)) => *field = Some(v.clone()),
                (Some(given), Some(v)) if given != v => {
                    self.overridden
                        .push((k.to_string(), v.clone(), given.clone()));
                }
                (Some(given), None) => {
                    self.overridden
                        .push((k.to_string(), "not given".into(), given.clone()));
                }
                _ => {}
            }
        }
        out
    }

    /// Refuses recorded site values this wattlens cannot use (a key it does not know, a value
    /// out of bounds, an unknown grid or profile), naming the trace, line 1 and the key rather
    /// than the flag; a value a flag overrides is not checked. An unknown recorded `--server`
    /// is a note: the replay uses the recorded CPU rating, not the row.
    pub(super) fn check_recorded(&self, cat: &Catalog, flags: &SiteArgs) -> Result<Vec<String>> {
        let Some(rec) = &self.recorded else {
            return Ok(Vec::new());
        };
        let path = &self.path;
        let mut only = SiteArgs::default();
        let mut given = flags.clone();
        let given: Vec<(&str, bool)> = site_fields(&mut given)
            .into_iter()
            .map(|(k, f)| (k, f.is_some()))
            .collect();
        for (k, v) in &rec.site {
            if !given.iter().any(|(known, _)| known == k) {
                let known: Vec<&str> = given.iter().map(|(k, _)| *k).collect();
                bail!(
                    "{path}:1: header: settings.site has an unknown key {k:?} (= {v:?}), a \
                     setting this wattlens cannot apply; the keys are {}. Give the site with \
                     flags (--grid ...) to replay it",
                    known.join(", ")
                );
            }
        }
        let blame = |k: &str, v: &str, e: &anyhow::Error| {
            let msg = format!("{e:#}").replace(&format!("--{k}"), &format!("settings.site.{k}"));
            anyhow::anyhow!(
                "{path}:1: header: settings.site.{k} = {v:?} cannot be used: {msg} (a flag \
                 --{k} given at replay overrides it)"
            )
        };
        for (k, field) in site_fields(&mut only) {
            let Some(v) = rec.site.get(k) else { continue };
            if given.iter().any(|(g, set)| *g == k && *set) {
                continue;
            }
            // Each value alone first, so that the message names the key at fault.
            let mut one = SiteArgs::default();
            for (k1, f1) in site_fields(&mut one) {
                if k1 == k {
                    *f1 = Some(v.clone());
                }
            }
            crate::settings::site_inputs(&one, &ConfigSite::default())
                .and_then(|s| crate::bounds::site(s, str::to_string))
                .map_err(|e| blame(k, v, &e))?;
            *field = Some(v.clone());
        }
        let inputs = crate::settings::site_inputs(&only, &ConfigSite::default())?;
        if let Err(e) = wattlens::estimate::site::resolve(cat, &inputs, &mut Vec::new()) {
            return Err(blame_resolve(path, &rec.site, &e));
        }
        let mut notes = Vec::new();
        if let Some(name) = &rec.server {
            if cat.servers().and_then(|t| t.get(name)).is_err() {
                notes.push(format!(
                    "{path}: the trace was recorded with --server {name}, which this catalog \
                     does not know; the CPU rating the trace recorded is used"
                ));
            }
        }
        Ok(notes)
    }

    /// The charge policy: the flag, else the recorded one, else `processes`.
    pub(super) fn charge(&mut self, flag: Option<Charge>) -> Charge {
        let rec = self.recorded.as_ref().map(|s| match s.charge.as_str() {
            "machine" => Charge::Machine,
            _ => Charge::Processes,
        });
        match (flag, rec) {
            (Some(f), Some(r)) if f != r => {
                self.overridden
                    .push(("charge".into(), charge_str(r).into(), charge_str(f).into()));
                f
            }
            (Some(f), _) => f,
            (None, Some(r)) => r,
            (None, None) => Charge::Processes,
        }
    }

    /// A recorded coefficient as a parameter, with its assumption; `None` without settings.
    pub(super) fn coefficient(
        &self,
        name: &str,
        pick: impl Fn(&Settings) -> Range,
        unit: &str,
        out: &mut Vec<Assumption>,
    ) -> Option<Param> {
        let r = pick(self.recorded.as_ref()?);
        let source = format!("recorded in the trace {}", self.path);
        out.push(Assumption {
            name: name.into(),
            value: r.display(unit),
            origin: Origin::User,
            source: Some(source.clone()),
            field: None,
        });
        Some(Param::new(r, source))
    }

    /// Notes a flag that overrides the recorded CPU rating, naming the servers and powers.
    pub(super) fn cpu_rating(&mut self, header: &Header, used: Option<f64>, a: &RunArgs) {
        let show = |w: Option<f64>| w.map_or_else(|| "none".into(), |w| format!("{w} W"));
        let (flag, shown) = if a.cpu_tdp.is_some() {
            ("cpu-tdp", show(used))
        } else if let Some(name) = &a.server {
            ("server", format!("{name} ({})", show(used)))
        } else {
            return;
        };
        if header.cpu_tdp_w != used {
            let recorded_server = header.settings.as_ref().and_then(|s| s.server.as_ref());
            let rec = match recorded_server {
                Some(s) => format!("{}, --server {s}", show(header.cpu_tdp_w)),
                None => show(header.cpu_tdp_w),
            };
            self.overridden.push((flag.into(), rec, shown));
        }
    }
}

/// A recorded site that the library refuses, blamed on the first recorded key among the
/// fields the error names (typed, not searched for in its text): that key is named as
/// `settings.site.KEY` in the message, the other fields by their flags.
fn blame_resolve(
    path: &str,
    site: &BTreeMap<String, String>,
    e: &wattlens::estimate::EstimateError,
) -> anyhow::Error {
    use wattlens::estimate::EstimateError as E;
    let fields = match e {
        E::Invalid { field, .. } | E::UnknownName { field, .. } => vec![*field],
        E::InvalidPair { a, b, .. } | E::Conflict { a, b, .. } => vec![*a, *b],
        E::Disagree { fields, .. } => fields.clone(),
        _ => Vec::new(),
    };
    let key = |f: wattlens::field::Field| crate::flags::flag(f).trim_start_matches("--");
    let at_fault = fields.into_iter().find(|f| site.contains_key(key(*f)));
    let mut msg = e.render(&|f| {
        if Some(f) == at_fault {
            format!("settings.site.{}", key(f))
        } else {
            crate::flags::flag(f).to_string()
        }
    });
    // The causes, as `{:#}` shows them.
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        msg.push_str(&format!(": {c}"));
        cause = c.source();
    }
    match at_fault {
        Some(f) => {
            let k = key(f);
            let v = site.get(k).cloned().unwrap_or_default();
            anyhow::anyhow!(
                "{path}:1: header: settings.site.{k} = {v:?} cannot be used: {msg} (a flag \
                 --{k} given at replay overrides it)"
            )
        }
        None => anyhow::anyhow!(
            "{path}:1: header: settings.site cannot be used: {msg} (flags given at replay \
             override it)"
        ),
    }
}

/// The site flags by their recorded key.
fn site_fields(out: &mut SiteArgs) -> [(&'static str, &mut Option<String>); 12] {
    [
        ("pue", &mut out.pue),
        ("grid", &mut out.grid),
        ("intensity", &mut out.intensity),
        ("market-intensity", &mut out.market_intensity),
        ("cfe", &mut out.cfe),
        ("wue", &mut out.wue),
        ("ewif", &mut out.ewif),
        ("price", &mut out.price),
        ("datacenter", &mut out.datacenter),
        ("cooling", &mut out.cooling),
        ("lifetime", &mut out.lifetime),
        ("equivalent-country", &mut out.equivalent_country),
    ]
}

/// Refuses the flags of a live measurement at `--replay`: the trace's readings are fixed, so
/// they could not change anything, and a silent no-op misleads. The sysfs and procfs roots are
/// refused when given as flags (a value from their environment variables is ambient and is
/// ignored).
pub(super) fn refuse_live_flags(a: &RunArgs) -> Result<()> {
    let from_env = |var: &str, p: &Path| std::env::var_os(var).is_some_and(|v| Path::new(&v) == p);
    let mut given = Vec::new();
    if a.interval.trim() != "1s" {
        given.push(format!("--interval {}", a.interval));
    }
    if a.psys {
        given.push("--psys".into());
    }
    if a.sysfs_root != Path::new("/sys") && !from_env(crate::env::SYSFS_ROOT, &a.sysfs_root) {
        given.push(format!("--sysfs-root {}", a.sysfs_root.display()));
    }
    if a.procfs_root != Path::new("/proc") && !from_env(crate::env::PROCFS_ROOT, &a.procfs_root) {
        given.push(format!("--procfs-root {}", a.procfs_root.display()));
    }
    if let Some(first) = given.first() {
        bail!(
            "{first} does not apply to a replay: the trace's readings were taken when it was \
             recorded (give it with --record, or leave it out with --replay){}",
            if given.len() > 1 {
                format!("; nor does {}", given[1..].join(", "))
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

pub(super) fn charge_str(c: Charge) -> &'static str {
    match c {
        Charge::Machine => "machine",
        Charge::Processes => "processes",
    }
}

/// The run's `started_at`, `host`, `wattlens_version` and `command` (the program only, even
/// from a trace recorded with `--record-command`); `null` where a trace does not say.
pub(super) fn identity(header: &Header) -> wattlens::result::Provenance {
    let known = !header.schema.is_empty();
    wattlens::result::Provenance {
        started_at: known
            .then(|| wattlens::measure::rfc3339(header.started_unix_s))
            .flatten(),
        host: header.host.clone(),
        wattlens_version: env!("CARGO_PKG_VERSION").to_string(),
        command: header.command.first().cloned(),
    }
}
