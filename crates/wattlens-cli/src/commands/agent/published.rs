//! What the server hands out ([`Published`]): the sampler's last publication, the bodies
//! encoded from it on the first request that wants each, and whether publications stopped
//! (`/healthz` answers 503 after [`MISSED_IN_A_ROW`]).

use super::{metrics, page};
use hyper::body::Bytes;
use std::time::{Duration, Instant};

/// Which body a request wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// OpenMetrics text.
    OpenMetrics,
    /// Classic Prometheus text (0.0.4).
    Text,
    /// OpenMetrics, gzip-compressed.
    OpenMetricsGz,
    /// Classic text, gzip-compressed.
    TextGz,
    /// The `/` page.
    Page,
}

/// What the server hands out. The sampler replaces the snapshot at each publication (cheap:
/// numbers and labels); a body is encoded (through `prometheus-client`) and compressed on the
/// first request that wants it after a publication, then served as is to every other
/// request until the next one: an idle agent encodes nothing, 200 scrapers cost one encoding.
#[derive(Debug, Default)]
pub struct Published {
    /// The figures of the last publication.
    frozen: Option<metrics::Frozen>,
    /// Where the grid intensity came from (a label).
    intensity_source: String,
    /// The labelled series built from `frozen`, once a scrape wanted them.
    snapshot: Option<metrics::Snapshot>,
    /// Encoded bodies of this snapshot.
    bodies: std::collections::HashMap<&'static str, Bytes>,
    /// The `/healthz` body.
    pub health: Bytes,
    refresh_s: u64,
    /// The sizes of the last OpenMetrics and text bodies (each encoded into a buffer of about
    /// that size, not grown by doubling).
    sizes: [usize; 2],
    /// When the last publication came, and the time between two.
    at: Option<(Instant, Duration)>,
}

impl Published {
    /// Whether publications stopped (the sampler is stuck or gone):
    /// [`MISSED_IN_A_ROW`] missed in a row.
    #[must_use]
    pub fn stale(&self) -> bool {
        self.at
            .is_some_and(|(t, every)| missed(t.elapsed(), every) >= MISSED_IN_A_ROW)
    }

    /// The body of the current snapshot, encoded now if not yet.
    pub fn body(&mut self, b: Body) -> Bytes {
        let key = match b {
            Body::OpenMetrics => "om",
            Body::Text => "text",
            Body::OpenMetricsGz => "om.gz",
            Body::TextGz => "text.gz",
            Body::Page => "page",
        };
        if let Some(x) = self.bodies.get(key) {
            return x.clone();
        }
        if self.snapshot.is_none() {
            if let Some(f) = &self.frozen {
                self.snapshot = Some(metrics::snapshot(
                    f,
                    started_unix_s(),
                    &self.intensity_source,
                ));
            }
        }
        // The plain body this one is made from, encoded in its format only.
        let plain = match b {
            Body::OpenMetrics | Body::OpenMetricsGz => Some("om"),
            Body::Text | Body::TextGz => Some("text"),
            Body::Page => None,
        };
        if let Some(k) = plain.filter(|k| !self.bodies.contains_key(k)) {
            if let Some(snap) = self.snapshot.take() {
                let i = usize::from(k == "text");
                let hint = self.sizes[i] + self.sizes[i] / 16 + 4096;
                if let Ok((enc, snap)) = metrics::encode_sized(snap, k == "om", hint) {
                    self.sizes[i] = enc.len();
                    self.bodies.insert(k, Bytes::from(enc));
                    self.snapshot = Some(snap);
                }
            }
        }
        let made = match b {
            Body::OpenMetrics | Body::Text => None,
            Body::OpenMetricsGz => self.bodies.get("om").map(|t| Bytes::from(gzip(t))),
            Body::TextGz => self.bodies.get("text").map(|t| Bytes::from(gzip(t))),
            Body::Page => self
                .snapshot
                .as_ref()
                .map(|s| Bytes::from(page::render(s, self.refresh_s))),
        };
        if let Some(m) = made {
            self.bodies.insert(key, m);
        }
        self.bodies.get(key).cloned().unwrap_or_default()
    }
}

/// Publications missed in a row after which `/healthz` answers 503 (the sampler is stuck): 5,
/// as a device is dropped after 5 failed reads in a row (docs/metrics.md).
pub const MISSED_IN_A_ROW: u32 = 5;

/// Publications missed `elapsed` after the last one, one every `every`: one is missed once it is
/// a quarter of a period late (a poll's own time and the scheduler's delays are not misses).
fn missed(elapsed: Duration, every: Duration) -> u32 {
    let every = every.as_secs_f64().max(1e-3);
    let n = ((elapsed.as_secs_f64() - every / 4.0) / every).floor();
    // Bounded: a count, not a cast of any f64.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = n.clamp(0.0, f64::from(u32::MAX)) as u32;
    n
}

impl Published {
    /// Replaces the publication: the figures, where the grid intensity came from, the
    /// `/healthz` body, the page's refresh (s) and the time between two publications; the
    /// bodies of the last one are dropped (encoded again on demand).
    pub(super) fn publish(
        &mut self,
        frozen: metrics::Frozen,
        intensity_source: &str,
        health: Bytes,
        refresh_s: u64,
        every: Duration,
    ) {
        self.frozen = Some(frozen);
        self.snapshot = None;
        self.intensity_source.clear();
        self.intensity_source.push_str(intensity_source);
        self.bodies.clear();
        self.health = health;
        self.refresh_s = refresh_s;
        self.at = Some((Instant::now(), every));
    }
}

/// `text` gzip-compressed (fast level: at most once a publication).
fn gzip(text: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(text);
    e.finish().unwrap_or_default()
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// When this process started (the first call), Unix s.
pub(super) fn started_unix_s() -> f64 {
    static START: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *START.get_or_init(unix_now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wattlens::agent::{Limits, NodeAgent};
    use wattlens::measure::{ModelInputs, Policy};

    #[test]
    fn bodies_are_encoded_once_per_publication_and_healthz_says_stale() {
        let node = NodeAgent::new(
            ModelInputs {
                policy: Policy::Processes,
                cpu_tdp: None,
                cpu_w_per_thread: 3.5,
                dram_w_per_gb: 0.375,
            },
            Limits::default(),
            None,
        );
        let mut p = Published {
            frozen: Some(metrics::Frozen::of(&node)),
            ..Published::default()
        };
        let text = p.body(Body::Text);
        assert!(std::str::from_utf8(&text)
            .expect("utf8")
            .contains("wattlens_build_info{version="));
        // Only the format asked for is encoded; its size is kept for the next encoding's buffer.
        assert!(!p.bodies.contains_key("om"));
        assert_eq!(p.sizes, [0, text.len()]);
        // The same bytes (not re-encoded) until the next publication.
        assert_eq!(p.body(Body::Text).as_ptr(), text.as_ptr());
        assert!(p.body(Body::OpenMetrics).ends_with(b"# EOF\n"));
        assert!(!p.stale());
        p.at = Instant::now()
            .checked_sub(Duration::from_secs(10))
            .map(|t| (t, Duration::from_secs(1)));
        assert!(p.stale());
    }

    #[test]
    fn healthz_is_503_after_5_missed_publications_in_a_row_not_4() {
        let ms = Duration::from_millis;
        let mut p = Published::default();
        // Never published yet (starting): not stale.
        assert!(!p.stale());
        let since = |p: &mut Published, ago: Duration, every: Duration| {
            p.at = Instant::now().checked_sub(ago).map(|t| (t, every));
        };
        let s = Duration::from_secs(1);
        // 4 missed (4.5 periods: the 5th is due in half a period) -> still healthy.
        since(&mut p, ms(4500), s);
        assert!(!p.stale());
        // The 5th due but less than a quarter of a period late -> still healthy.
        since(&mut p, ms(5200), s);
        assert!(!p.stale());
        // 5 missed in a row -> 503.
        since(&mut p, ms(5300), s);
        assert!(p.stale());
        // In periods, not seconds: at a 10 s interval 4 missed is 45 s (the old rule, 3
        // periods + 2 s, said stale after 32 s: 3 missed).
        since(&mut p, ms(45_000), Duration::from_secs(10));
        assert!(!p.stale());
        since(&mut p, ms(55_000), Duration::from_secs(10));
        assert!(p.stale());
        assert_eq!(missed(ms(1300), s), 1);
        assert_eq!(missed(ms(1200), s), 0);
    }
}
