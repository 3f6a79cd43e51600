//! The checks of a trace's header line: times, interval, CPU rating and recorded settings.

use super::TraceReader;
use crate::source::replay::{
    Header, TraceError, MAX_CPU_TDP_W, MAX_INTERVAL_S, MIN_CPU_TDP_W, MIN_INTERVAL_S,
};

impl TraceReader {
    pub(super) fn check_header(&self, h: &Header) -> Result<(), TraceError> {
        let bad = |what: &str, v: f64, ok: bool, want: &str| {
            (!ok).then(|| self.error(format!("header: {what} = {v} is impossible; {want}")))
        };
        let checks = [
            bad(
                "started_unix_s",
                h.started_unix_s,
                h.started_unix_s.is_finite() && h.started_unix_s.abs() < 1e12,
                "a Unix time in seconds",
            ),
            (!(h.interval_s.is_finite()
                && (MIN_INTERVAL_S..=MAX_INTERVAL_S).contains(&h.interval_s)))
            .then(|| TraceError::Interval {
                path: self.path.clone(),
                line: self.line,
                value: h.interval_s,
            }),
            h.cpu_tdp_w.and_then(|w| {
                bad(
                    "cpu_tdp_w",
                    w,
                    w.is_finite() && (MIN_CPU_TDP_W..=MAX_CPU_TDP_W).contains(&w),
                    &format!(
                        "a CPU rating is from {} to {} W (as --cpu-tdp)",
                        crate::uncertainty::fmt_input(MIN_CPU_TDP_W),
                        crate::uncertainty::fmt_input(MAX_CPU_TDP_W)
                    ),
                )
            }),
        ];
        if let Some(e) = checks.into_iter().flatten().next() {
            return Err(e);
        }
        if let Some(s) = &h.settings {
            use crate::catalog::coefficient_bounds;
            for (field, key, v) in [
                (
                    "settings.cpu_w_per_thread",
                    "cpu.w_per_thread",
                    s.cpu_w_per_thread,
                ),
                ("settings.dram_w_per_gb", "dram.w_per_gb", s.dram_w_per_gb),
                ("settings.rest_share[0]", "rest.share", s.rest_share[0]),
                ("settings.rest_share[1]", "rest.share", s.rest_share[1]),
            ] {
                let b = coefficient_bounds(key);
                if !b.admits(v) {
                    return Err(self.error(format!(
                        "header: {field} = {v} is impossible; the catalog's {key} must be {}",
                        b.describe()
                    )));
                }
            }
            if s.rest_share[0] > s.rest_share[1] {
                return Err(self.error(format!(
                    "header: settings.rest_share = [{}, {}] has its low above its high",
                    s.rest_share[0], s.rest_share[1]
                )));
            }
            if !matches!(s.charge.as_str(), "machine" | "processes") {
                return Err(self.error(format!(
                    "header: settings.charge = {:?} is not \"machine\" or \"processes\"",
                    s.charge
                )));
            }
        }
        Ok(())
    }
}
