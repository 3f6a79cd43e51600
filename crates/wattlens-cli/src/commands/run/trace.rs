//! What a trace remembers of its run: the settings that change the footprint go into the
//! header when recording and are the replay's defaults (a flag given at replay overrides one,
//! with a note on stderr and in the JSON); and who, where and when for the run's JSON.

use crate::cli::{Charge, RunArgs, SiteArgs};
use crate::settings::ConfigSite;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use wattlens::explain::{Assumption, Origin};
use wattlens::footprint::Param;
use wattlens::source::replay::{Header, Settings};
use wattlens::uncertainty::Range;

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
            out.push(format!(
                "replay: --{k} {used} overrides the trace's recorded {k} ({rec})"
            ));
        }
        out
    }

    /// The `replay` object of the JSON.
    pub(super) fn to_json(&self) -> Value {
        json!({
            "trace": self.path,
            "recorded_settings": self.recorded.as_ref().map(|s| json!(s)),
            "overridden": self.overridden.iter().map(|(k, rec, used)| json!({
                "setting": k, "recorded": rec, "used": used,
            })).collect::<Vec<_>>(),
        })
    }

    /// The site flags: those given, else the recorded ones.
    pub(super) fn site_args(&mut self, a: &SiteArgs) -> SiteArgs {
        let mut out = a.clone();
        let Some(rec) = self.recorded.as_ref().map(|s| s.site.clone()) else {
            return out;
        };
        let fields: [(&str, &mut Option<String>); 12] = [
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
        ];
        for (k, field) in fields {
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
        });
        Some(Param::new(r, source))
    }

    /// Notes a flag that overrides the recorded CPU rating.
    pub(super) fn cpu_rating(&mut self, header: &Header, used: Option<f64>, a: &RunArgs) {
        let flag = if a.cpu_tdp.is_some() {
            "cpu-tdp"
        } else if a.server.is_some() {
            "server"
        } else {
            return;
        };
        if header.cpu_tdp_w != used {
            let show = |w: Option<f64>| w.map_or_else(|| "none".into(), |w| format!("{w} W"));
            self.overridden
                .push((flag.into(), show(header.cpu_tdp_w), show(used)));
        }
    }
}

pub(super) fn charge_str(c: Charge) -> &'static str {
    match c {
        Charge::Machine => "machine",
        Charge::Processes => "processes",
    }
}

/// The run's `started_at`, `host`, `wattlens_version` and `command` (the program only, even
/// from a trace recorded with `--record-command`); `null` where a trace does not say.
pub(super) fn identity(header: &Header) -> [(&'static str, Value); 4] {
    let known = !header.schema.is_empty();
    [
        (
            "started_at",
            json!(known
                .then(|| wattlens::measure::rfc3339(header.started_unix_s))
                .flatten()),
        ),
        ("host", json!(header.host)),
        ("wattlens_version", json!(env!("CARGO_PKG_VERSION"))),
        ("command", json!(header.command.first())),
    ]
}
