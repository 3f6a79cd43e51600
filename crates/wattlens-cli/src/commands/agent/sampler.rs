//! The sampling side of `wattlens agent`: every interval, one poll of the node's sources and
//! cgroup tree into the [`NodeAgent`]; every publication period, a [`super::Published`]
//! snapshot of its figures and the `/healthz` body.

use super::{metrics, series, Published};
use hyper::body::Bytes;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wattlens::agent::{Discovery, NodeAgent};
use wattlens::source::{PollContext, PollError, Source, StdFs};

/// The sampling side.
pub(super) struct Sampler {
    pub(super) node: NodeAgent,
    pub(super) sources: Vec<Box<dyn Source>>,
    pub(super) discovery: Discovery,
    pub(super) procfs_root: std::path::PathBuf,
    pub(super) interval: Duration,
    pub(super) resolution: Duration,
    pub(super) intensity_source: String,
    pub(super) series: Option<series::Live>,
    pub(super) published: Arc<Mutex<Published>>,
}

impl Sampler {
    pub(super) fn run(mut self, start: Instant) {
        let mut n: u32 = 0;
        let mut last_publish = Instant::now();
        loop {
            n = n.saturating_add(1);
            // On a monotonic clock, without drift.
            let next = start + self.interval * n;
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            self.poll(start);
            if last_publish.elapsed() + Duration::from_millis(5) >= self.resolution {
                last_publish = Instant::now();
                self.publish();
            }
        }
    }

    pub(super) fn poll(&mut self, start: Instant) {
        let t = start.elapsed().as_secs_f64();
        if let Some(live) = &mut self.series {
            let (g, source) = live.now();
            self.node.set_intensity(g);
            self.intensity_source = source;
        }
        let found = self.discovery.walk();
        let pids: Vec<u32> = found
            .seen
            .iter()
            .flat_map(|s| s.pids.iter().copied())
            .collect();
        let ctx = PollContext { pids: &pids };
        let mut readings = Vec::new();
        let mut keep = Vec::with_capacity(self.sources.len());
        for mut src in self.sources.drain(..) {
            match src.poll(t, &ctx, &mut readings) {
                Ok(()) | Err(PollError::Retry(_)) => keep.push(src),
                Err(e) => eprintln!("wattlens agent: {}: {e}; no longer polled", src.name()),
            }
        }
        self.sources = keep;
        let on_gpus: std::collections::HashMap<String, wattlens::source::gpu_use::GpuUse> = self
            .sources
            .iter()
            .flat_map(|s| s.device_use())
            .map(|(d, u)| (d.to_string(), u))
            .collect();
        let machine = wattlens::source::procfs::machine(&StdFs, &self.procfs_root).ok();
        let before = self.node.lost().notes.len();
        let lost_before = self.node.lost().notes.last().cloned();
        self.node.tick_use(t, &readings, machine, found, &on_gpus);
        // Say each new note once on stderr.
        let notes = &self.node.lost().notes;
        if notes.last() != lost_before.as_ref() || notes.len() != before {
            if let Some(n) = notes.last() {
                eprintln!("wattlens agent: {n}");
            }
        }
    }

    pub(super) fn publish(&self) {
        let frozen = metrics::Frozen::of(&self.node);
        let health = health_text(&self.node);
        if let Ok(mut p) = self.published.lock() {
            p.publish(
                frozen,
                &self.intensity_source,
                Bytes::from(health),
                self.resolution.as_secs().clamp(2, 60),
                publication_period(self.interval, self.resolution),
            );
        }
    }
}

/// How many workloads' `cpu.stat` the sampler keeps open: the open-file limit raised to its
/// hard maximum (as Go does for node_exporter), less 1,024 for the server's sockets and the
/// sources; 0 (each file opened at each read) when the limit leaves no room.
pub(super) fn open_file_budget() -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let l = getrlimit(Resource::Nofile);
    let hard = l.maximum.unwrap_or(1 << 20);
    let mut soft = l.current.unwrap_or(hard);
    if soft < hard
        && setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(hard),
                maximum: l.maximum,
            },
        )
        .is_ok()
    {
        soft = hard;
    }
    usize::try_from(soft)
        .unwrap_or(usize::MAX)
        .saturating_sub(1024)
}

/// The time between two publications: the first poll at least the resolution (less 5 ms) after
/// the last publication publishes (see [`Sampler::run`]): 1 s at a 200 ms interval, 1.2 s at
/// 300 ms, the interval past 1 s.
fn publication_period(interval: Duration, resolution: Duration) -> Duration {
    let (res, every) = (
        resolution.as_secs_f64() - 0.005,
        interval.as_secs_f64().max(1e-3),
    );
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let polls = (res / every).ceil().clamp(1.0, 1e6) as u32;
    interval * polls
}

/// The `/healthz` body: ok, and what was lost.
fn health_text(a: &NodeAgent) -> String {
    let l = a.lost();
    let mut s = format!(
        "ok\npolls {}\nworkloads {}\nread_failures {}\ndropped_devices {}\ncounter_resets {}\n\
         vanished_cgroups {}\n",
        a.polls(),
        a.workloads().len(),
        l.read_failures.values().sum::<u64>(),
        l.dropped.len(),
        l.resets.values().sum::<u64>(),
        l.vanished_cgroups
    );
    for n in &l.notes {
        s.push_str("note: ");
        s.push_str(n);
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_publication_period_follows_the_polls() {
        let ms = Duration::from_millis;
        let s = Duration::from_secs(1);
        // The publication period follows the polls: at 200 ms, 1 s; at 300 ms, 4 polls; past
        // 1 s, each poll.
        assert_eq!(publication_period(ms(200), s), s);
        assert_eq!(publication_period(ms(300), s), ms(1200));
        assert_eq!(publication_period(ms(2000), ms(2000)), ms(2000));
        assert_eq!(publication_period(s, s), s);
    }
}
