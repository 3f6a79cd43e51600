//! An intensity series for a running agent (`--series`): the value of the interval that holds
//! each poll's moment, the site's annual intensity outside the series (said once at each change),
//! and the file read again when it changes (checked once a minute), so that a job that keeps
//! the file current (a forecast or a live feed written by cron) keeps the agent current.

use crate::cli::SiteArgs;
use crate::series::Loaded;
use std::time::{Duration, Instant, SystemTime};
use wattlens::units::GramsPerKwh;

/// How often the file's modification time is checked.
const RECHECK: Duration = Duration::from_secs(60);

/// A series in use by the agent.
#[derive(Debug)]
pub struct Live {
    loaded: Loaded,
    args: SiteArgs,
    annual: GramsPerKwh,
    annual_source: String,
    modified: Option<SystemTime>,
    checked: Instant,
    /// Whether the last moment was inside the series.
    inside: Option<bool>,
}

fn modified(loaded: &Loaded) -> Option<SystemTime> {
    std::fs::metadata(&loaded.path)
        .and_then(|m| m.modified())
        .ok()
}

impl Live {
    /// A series, with the annual intensity (and its source) to use outside it.
    pub fn new(loaded: Loaded, args: SiteArgs, annual: GramsPerKwh, annual_source: String) -> Self {
        Self {
            modified: modified(&loaded),
            loaded,
            args,
            annual,
            annual_source,
            checked: Instant::now(),
            inside: None,
        }
    }

    /// The intensity now and where it comes from (for the gauge's `source` label).
    pub fn now(&mut self) -> (GramsPerKwh, String) {
        self.reload_if_changed();
        self.at(jiff::Timestamp::now())
    }

    /// The intensity at `t` and its source.
    fn at(&mut self, t: jiff::Timestamp) -> (GramsPerKwh, String) {
        let found = self.loaded.series.at(t).map(|iv| iv.intensity);
        let inside = found.is_some();
        if self.inside != Some(inside) {
            if inside {
                eprintln!(
                    "wattlens agent: intensity from --series {} from {t}",
                    self.loaded.path.display()
                );
            } else {
                eprintln!(
                    "wattlens agent: --series {} has no value at {t}; the annual intensity ({} \
                     g/kWh, {}) is used until it has",
                    self.loaded.path.display(),
                    self.annual.0,
                    self.annual_source
                );
            }
            self.inside = Some(inside);
        }
        match found {
            Some(g) => (
                g,
                format!(
                    "series {} ({})",
                    self.loaded.path.display(),
                    self.loaded.series.source()
                ),
            ),
            None => (self.annual, self.annual_source.clone()),
        }
    }

    fn reload_if_changed(&mut self) {
        if self.checked.elapsed() < RECHECK {
            return;
        }
        self.checked = Instant::now();
        let m = modified(&self.loaded);
        if m.is_none() || m == self.modified {
            return;
        }
        self.modified = m;
        match crate::series::load(&self.args, self.loaded.user_intensity.as_deref()) {
            Ok(Some(l)) => self.loaded = l,
            Ok(None) => {}
            Err(e) => eprintln!(
                "wattlens agent: --series {} changed but cannot be read ({e:#}); the previous \
                 series is kept",
                self.loaded.path.display()
            ),
        }
    }
}
