//! The sampler thread: polls the sources on a monotonic clock (and at once for each mark line),
//! records the raw readings, feeds the [`Pipeline`], and shares the live figures.

use super::meter::MeterNote;
use super::pipeline::View;
use super::{Ledger, Measurement, ModelInputs, Pipeline};
use crate::source::procfs::Procfs;
use crate::source::replay::TraceWriter;
use crate::source::{Event, Poll, PollContext, PollError, Reading, Source};
use crate::units::{Joules, Seconds, Watts};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Notes kept from the marks watcher (each refused line is one).
const MAX_NOTES: usize = 50;

/// What the live status line shows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Live {
    /// Since the first poll.
    pub elapsed: Seconds,
    /// Charged power over the last interval.
    pub power: Watts,
    /// Charged energy so far (without the rest of the server).
    pub energy: Joules,
}

/// The live figures, shared with the sampler thread.
#[derive(Clone, Debug)]
pub struct LiveHandle(Arc<Mutex<Live>>);

impl LiveHandle {
    /// The latest figures.
    #[must_use]
    pub fn get(&self) -> Live {
        self.0.lock().map(|l| *l).unwrap_or_default()
    }
}

/// Everything the sampler thread needs.
pub(crate) struct SamplerConfig {
    /// Time between polls.
    pub(crate) interval: Duration,
    /// Machine and process tree (polled first; its PIDs go to the other sources).
    pub(crate) procfs: Option<Procfs>,
    /// Energy sources.
    pub(crate) sources: Vec<Box<dyn Source>>,
    /// Where raw readings are recorded.
    pub(crate) record: Option<TraceWriter>,
    /// Model coefficients.
    pub(crate) inputs: ModelInputs,
    /// Wall-clock time of the measurement's zero (UTC).
    pub(crate) started: jiff::Timestamp,
}

/// What the sampler thread is told.
#[derive(Debug)]
enum Msg {
    /// Poll now and take this mark line with the poll.
    Mark(String),
    /// A note for the run (a mark line refused before it reached the sampler).
    Note(String),
    /// Send the measurements of these views so far, without polling.
    Snapshot(Vec<View>, Sender<(Vec<Measurement>, Ledger)>),
    /// Take a last poll (with the command's exit code) and end.
    Stop(Option<i32>),
}

/// A sampler running on its own thread.
pub(crate) struct Sampler {
    handle: JoinHandle<(Pipeline, Vec<MeterNote>)>,
    stop: Sender<Msg>,
    live: Arc<Mutex<Live>>,
}

/// Sends mark lines (`begin NAME`, `end NAME`) to a running sampler from another thread.
#[derive(Clone, Debug)]
pub struct Marker(Sender<Msg>);

impl Marker {
    /// Polls now and takes `line` with that poll; `false` once the sampler has stopped.
    pub fn mark(&self, line: &str) -> bool {
        self.0.send(Msg::Mark(line.to_string())).is_ok()
    }

    /// Adds a note to the run's notes; `false` once the sampler has stopped.
    pub fn note(&self, text: &str) -> bool {
        self.0.send(Msg::Note(text.to_string())).is_ok()
    }
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampler").finish_non_exhaustive()
    }
}

impl Sampler {
    /// Starts polling now, then every `interval` (on a monotonic clock, without drift).
    #[must_use]
    pub fn start(cfg: SamplerConfig) -> Self {
        let (stop, rx) = channel::<Msg>();
        let live = Arc::new(Mutex::new(Live::default()));
        let shared = Arc::clone(&live);
        let handle = std::thread::spawn(move || {
            let SamplerConfig {
                interval,
                mut procfs,
                mut sources,
                mut record,
                inputs,
                started,
            } = cfg;
            let mut pipeline = Pipeline::new(inputs).starting_at(started);
            let mut notes: Vec<MeterNote> = Vec::new();
            // Notes given beyond MAX_NOTES, counted.
            let (mut given, mut unsaid) = (0_usize, 0_usize);
            let start = Instant::now();
            let mut buf: Vec<Reading> = Vec::new();
            let mut poll = Poll::default();
            let mut next = start;
            let mut exit: Option<Option<i32>> = None;
            let mut retry_warned: Vec<&'static str> = Vec::new();
            let mut marks: Vec<String> = Vec::new();
            // Whether the last wait reached its tick (a mark polls early and keeps the tick).
            let mut on_tick = true;
            loop {
                let t = start.elapsed().as_secs_f64();
                buf.clear();
                let mut pids = Vec::new();
                if let Some(p) = &mut procfs {
                    if let Err(e) = p.poll(t, &PollContext::default(), &mut buf) {
                        if !retry_warned.contains(&"procfs") {
                            notes.push(MeterNote::Source {
                                name: "procfs",
                                message: e.to_string(),
                            });
                            retry_warned.push("procfs");
                        }
                    }
                    pids = p.pids();
                }
                let ctx = PollContext { pids: &pids };
                sources.retain_mut(|s| match s.poll(t, &ctx, &mut buf) {
                    Ok(()) => true,
                    Err(PollError::Retry(e)) => {
                        if !retry_warned.contains(&s.name()) {
                            notes.push(MeterNote::Source {
                                name: s.name(),
                                message: e.to_string(),
                            });
                            retry_warned.push(s.name());
                        }
                        true
                    }
                    Err(e) => {
                        notes.push(MeterNote::Source {
                            name: s.name(),
                            message: e.to_string(),
                        });
                        false
                    }
                });
                // The control events of this poll: marks, then the command's exit.
                poll.t = t;
                poll.readings = std::mem::take(&mut buf);
                poll.events.clear();
                poll.events
                    .extend(marks.drain(..).map(|text| Event::Mark { text }));
                if let Some(Some(code)) = exit {
                    poll.events.push(Event::Exit { code });
                }
                if let Some(w) = &mut record {
                    if let Err(e) = w.write(&poll) {
                        notes.push(MeterNote::RecordStopped(e));
                        record = None;
                    }
                }
                pipeline.poll(&poll);
                buf = std::mem::take(&mut poll.readings);
                if let Ok(mut l) = shared.lock() {
                    *l = Live {
                        elapsed: pipeline.elapsed(),
                        power: pipeline.power(),
                        energy: pipeline.energy(),
                    };
                }
                if exit.is_some() {
                    break;
                }
                if on_tick {
                    next += interval;
                }
                let wait = next.saturating_duration_since(Instant::now());
                let mut msg = rx.recv_timeout(wait).map_err(|e| match e {
                    RecvTimeoutError::Timeout => None,
                    RecvTimeoutError::Disconnected => Some(()),
                });
                on_tick = false;
                loop {
                    match msg {
                        Ok(Msg::Stop(code)) => exit = Some(code),
                        Ok(m @ (Msg::Note(_) | Msg::Snapshot(..))) => {
                            match m {
                                Msg::Note(text) => {
                                    if given < MAX_NOTES {
                                        notes.push(MeterNote::Given(text));
                                        given += 1;
                                    } else {
                                        unsaid += 1;
                                    }
                                }
                                Msg::Snapshot(views, reply) => {
                                    let ms = views.iter().map(|v| pipeline.measurement(*v));
                                    let _ = reply.send((ms.collect(), pipeline.ledger()));
                                }
                                _ => {}
                            }
                            msg = rx.try_recv().map_err(|e| match e {
                                TryRecvError::Empty => None,
                                TryRecvError::Disconnected => Some(()),
                            });
                            if !matches!(msg, Err(None)) {
                                continue;
                            }
                            if marks.is_empty() {
                                // Nothing to poll for: keep waiting for the tick.
                                let wait = next.saturating_duration_since(Instant::now());
                                msg = rx.recv_timeout(wait).map_err(|e| match e {
                                    RecvTimeoutError::Timeout => None,
                                    RecvTimeoutError::Disconnected => Some(()),
                                });
                                continue;
                            }
                        }
                        Ok(Msg::Mark(text)) => {
                            marks.push(text);
                            // Marks that arrive together share one poll.
                            msg = rx.try_recv().map_err(|e| match e {
                                TryRecvError::Empty => None,
                                TryRecvError::Disconnected => Some(()),
                            });
                            if !matches!(msg, Err(None)) {
                                continue;
                            }
                        }
                        Err(None) if marks.is_empty() => {
                            on_tick = true;
                            // Late (a slow poll): skip missed ticks rather than bursting.
                            let now = Instant::now();
                            while next + interval < now {
                                next += interval;
                            }
                        }
                        Err(None) => {}
                        Err(Some(())) => exit = Some(None),
                    }
                    break;
                }
            }
            if unsaid > 0 {
                notes.push(MeterNote::Unsaid(unsaid));
            }
            (pipeline, notes)
        });
        Self { handle, stop, live }
    }

    /// The latest live figures.
    #[must_use]
    pub fn live(&self) -> Live {
        self.live.lock().map(|l| *l).unwrap_or_default()
    }

    /// A handle that sends mark lines to this sampler.
    #[must_use]
    pub fn marker(&self) -> Marker {
        Marker(self.stop.clone())
    }

    /// A handle to the live figures for another thread.
    #[must_use]
    pub fn live_handle(&self) -> LiveHandle {
        LiveHandle(Arc::clone(&self.live))
    }

    /// The measurements of `views` so far, and the ledger, without stopping (`None` once the
    /// sampler has ended).
    pub(crate) fn snapshot(&self, views: &[View]) -> Option<(Vec<Measurement>, Ledger)> {
        let (tx, rx) = channel();
        self.stop.send(Msg::Snapshot(views.to_vec(), tx)).ok()?;
        rx.recv().ok()
    }

    /// Takes a last poll (with the command's exit code) and returns the measurements of
    /// `views`, the ledger and the sources' warnings.
    pub(crate) fn stop_views(
        self,
        exit_code: Option<i32>,
        views: &[View],
    ) -> (Vec<Measurement>, Ledger, Vec<MeterNote>) {
        let _ = self.stop.send(Msg::Stop(exit_code));
        match self.handle.join() {
            Ok((mut p, notes)) => {
                p.close();
                (
                    views.iter().map(|v| p.measurement(*v)).collect(),
                    p.ledger(),
                    notes,
                )
            }
            Err(_) => {
                let p = Pipeline::new(ModelInputs {
                    policy: super::Policy::Machine,
                    cpu_tdp: None,
                    cpu_w_per_thread: 0.0,
                    dram_w_per_gb: 0.0,
                });
                (
                    views.iter().map(|v| p.measurement(*v)).collect(),
                    p.ledger(),
                    vec![MeterNote::Given(
                        "the sampler thread panicked; no measurement".into(),
                    )],
                )
            }
        }
    }
}
