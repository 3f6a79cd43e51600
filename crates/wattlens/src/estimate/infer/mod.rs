//! Inference: the energy of one request from the model's shape, the hardware and batching, by a
//! roofline model, then the shared footprint accounting per request, per 1,000 output tokens and
//! per day or year at a request rate.
//!
//! - memory: weights (total params x bytes) + KV cache (layers x KV width x bytes x context x
//!   batch) decide how many accelerators one replica needs;
//! - prefill is compute-bound: `2 x active params x input tokens` (+ attention) at peak x MFU;
//! - each decode step reads the weights once for the whole batch and each sequence's KV cache, at
//!   peak bandwidth x MBU, with a compute floor at large batch (roofline), plus a step overhead
//!   per sequence and layer that measured serving throughput shows beyond the roofline;
//! - accelerator power has two levels: a low fraction of board power while the accelerator only
//!   streams weights (memory-bound decode at small batch), a high one for the rest of each phase
//!   (compute, KV-cache reads, per-sequence work), so decode power rises with batch; idle time
//!   between requests (`--utilization`) draws idle power;
//! - host and rest of server are shares of the accelerator's power, as in the `tdp` basis.
//!
//! Each equation is a plain function with a hand-checked unit test; docs/models.md gives the
//! sources.

pub mod shape;

use super::power_cap::{Drawn, PowerCap};
use crate::explain::{Step, StepSink};
use crate::figure::Figure;
use crate::footprint::{Busy, Footprint, ItEnergy, Site};
use crate::record::Record;
use crate::result::ReportKind;
use crate::runner::{Evaluate, Usage};
use crate::uncertainty::{fmt_input, Draw, Range};
use crate::units::{
    Bytes, BytesPerSecond, Flops, FlopsPerSecond, Hours, Joules, KilowattHours, Seconds, Watts,
};

/// Seconds in a day, the period of a request rate.
const SECONDS_PER_DAY: f64 = 86_400.0;

/// The architecture figures the model uses, in one evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    /// Parameters held in memory (all experts of a MoE model).
    pub total_params: f64,
    /// Parameters used per token (compute).
    pub active_params: f64,
    /// Transformer layers (0 when unknown: no KV cache or attention term).
    pub layers: f64,
    /// Values cached per token per layer, keys and values together (`2 x KV heads x head size`).
    pub kv_width: f64,
    /// Width of attention (`heads x head size`), for the attention FLOPs of Kaplan et al.
    pub attn_width: f64,
}

/// One batch of requests, in one evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Batch {
    /// Sequences served together.
    pub size: f64,
    /// Prompt tokens per request.
    pub input_tokens: f64,
    /// Generated tokens per request (reasoning tokens included).
    pub output_tokens: f64,
}

/// One replica's hardware and how well it is used, in one evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Replica {
    /// Accelerators holding one copy of the model.
    pub accelerators: f64,
    /// Dense peak of one accelerator at the precision used.
    pub peak: FlopsPerSecond,
    /// Peak memory bandwidth of one accelerator.
    pub bandwidth: BytesPerSecond,
    /// Achieved fraction of peak compute when compute-bound (MFU).
    pub mfu: f64,
    /// Achieved fraction of peak bandwidth when memory-bound (MBU).
    pub mbu: f64,
    /// Bytes per weight.
    pub weight_bytes: f64,
    /// Bytes per cached key or value.
    pub kv_bytes: f64,
    /// Decode-step time beyond the roofline, per sequence of the batch and per layer.
    pub step_overhead: Seconds,
}

impl Replica {
    /// Achieved compute of the whole replica: `N_acc x peak x MFU`.
    fn compute_rate(&self) -> FlopsPerSecond {
        FlopsPerSecond(self.accelerators * self.peak.0 * self.mfu)
    }
    /// Achieved memory bandwidth of the whole replica: `N_acc x BW x MBU`.
    fn memory_rate(&self) -> BytesPerSecond {
        BytesPerSecond(self.accelerators * self.bandwidth.0 * self.mbu)
    }
}

/// Time of one phase on one replica and how much of it is compute-bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Phase {
    /// FLOPs done.
    pub flops: Flops,
    /// Bytes read from memory.
    pub bytes: Bytes,
    /// Time if compute were the only limit.
    pub compute: Seconds,
    /// Time if memory bandwidth were the only limit.
    pub memory: Seconds,
    /// Time to stream the weights alone at the achieved bandwidth (part of `memory`).
    pub weight_stream: Seconds,
    /// Time added to the roofline (0 for prefill; per-sequence step overhead in decode).
    pub overhead: Seconds,
}

impl Phase {
    /// The roofline, the slower of compute and memory, plus the overhead.
    #[must_use]
    pub fn time(&self) -> Seconds {
        Seconds(self.compute.0.max(self.memory.0) + self.overhead.0)
    }
    /// Compute-bound share of the phase's time, 0..1 (1 when compute is the limit).
    #[must_use]
    pub fn utilisation(&self) -> f64 {
        let t = self.time().0;
        if t > 0.0 {
            self.compute.0 / t
        } else {
            0.0
        }
    }
    /// Busy share of the phase's time, 0..1: all of it except the weight streaming that compute
    /// does not overlap, `1 - max(0, t_weights - t_compute) / t`. 1 when compute-bound; near 0
    /// in batch-1 decode, which only streams weights; rising with batch as KV-cache reads,
    /// compute and per-sequence work grow while the weights are read once per step.
    #[must_use]
    pub fn activity(&self) -> f64 {
        let t = self.time().0;
        if t > 0.0 {
            (1.0 - (self.weight_stream.0 - self.compute.0).max(0.0) / t).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// Bytes of the weights: `params x bytes per weight`.
#[must_use]
pub fn weight_memory(params: f64, bytes_per_weight: f64) -> Bytes {
    Bytes(params * bytes_per_weight)
}

/// Bytes of KV cache per token: `layers x KV width x bytes`.
#[must_use]
pub fn kv_per_token(s: &Shape, kv_bytes: f64) -> Bytes {
    Bytes(s.layers * s.kv_width * kv_bytes)
}

/// Memory one replica needs: weights + KV cache of the whole batch at full context.
#[must_use]
pub fn replica_memory(s: &Shape, b: &Batch, weight_bytes: f64, kv_bytes: f64) -> Bytes {
    let kv = kv_per_token(s, kv_bytes).0 * b.size * (b.input_tokens + b.output_tokens);
    Bytes(weight_memory(s.total_params, weight_bytes).0 + kv)
}

/// Accelerators needed to hold `need` bytes when each offers `usable` bytes, rounded up to a
/// power of two (tensor-parallel degrees divide the attention heads).
#[must_use]
pub fn accelerators_needed(need: Bytes, usable: Bytes) -> f64 {
    let n = (need.0 / usable.0).ceil().max(1.0);
    (n.log2().ceil()).exp2()
}

/// Weights read in one forward pass over `tokens` tokens of a batch: all of a dense model; for a
/// MoE model at most `active x tokens` (each token its own experts), at most all of them.
#[must_use]
pub fn weights_read(s: &Shape, tokens: f64, weight_bytes: f64) -> Bytes {
    weight_memory(s.total_params.min(s.active_params * tokens), weight_bytes)
}

/// Prefill of the whole batch: `FLOPs = B x (2 x N_active x I + layers x d_attn x I^2)` (Kaplan
/// et al. 2020's `2 x n_layer x n_ctx x d_attn` per token, summed over causal positions), weights
/// read once.
#[must_use]
pub fn prefill(s: &Shape, b: &Batch, r: &Replica) -> Phase {
    let i = b.input_tokens;
    let flops = Flops(b.size * (2.0 * s.active_params * i + s.layers * s.attn_width * i * i));
    let bytes = weights_read(s, b.size * i, r.weight_bytes);
    let bw = r.memory_rate();
    Phase {
        flops,
        bytes,
        compute: flops / r.compute_rate(),
        memory: bytes / bw,
        weight_stream: bytes / bw,
        overhead: Seconds(0.0),
    }
}

/// One decode step (one token for each sequence of the batch) at the mean context
/// `c = I + O / 2`: reads the weights once and each sequence's KV cache;
/// `FLOPs = B x (2 x N_active + 2 x layers x d_attn x c)`; the step takes the roofline plus
/// `B x layers x tau` (tau: [`Replica::step_overhead`], wall time, whatever the replica size).
#[must_use]
pub fn decode_step(s: &Shape, b: &Batch, r: &Replica) -> Phase {
    let c = b.input_tokens + b.output_tokens / 2.0;
    let flops = Flops(b.size * (2.0 * s.active_params + 2.0 * s.layers * s.attn_width * c));
    let kv = kv_per_token(s, r.kv_bytes).0 * b.size * c;
    let weights = weights_read(s, b.size, r.weight_bytes);
    let bytes = Bytes(weights.0 + kv);
    let bw = r.memory_rate();
    Phase {
        flops,
        bytes,
        compute: flops / r.compute_rate(),
        memory: bytes / bw,
        weight_stream: weights / bw,
        overhead: Seconds(b.size * s.layers * r.step_overhead.0),
    }
}

/// Power of one accelerator busy a share `u` of the time ([`Phase::activity`]), the rest only
/// streaming weights: `board x (low + (high - low) x u)`.
#[must_use]
pub fn busy_power(board: Watts, low: f64, high: f64, u: f64) -> Watts {
    board * (low + (high - low) * u.clamp(0.0, 1.0))
}

/// How much work the accounting covers.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Volume {
    /// A number of requests (1 when nothing is given).
    Requests(Range),
    /// Requests per day; the accounting covers one day.
    PerDay(Range),
}

/// Where the energy of one request comes from.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Energy {
    /// The roofline model.
    Modelled(Box<Roofline>),
    /// A known IT energy per request, kWh, split by host and rest shares.
    Given {
        /// IT energy of one request, kWh.
        it_kwh: Range,
    },
}

/// Inputs of the roofline model, as ranges.
#[derive(Clone, Debug, PartialEq)]
pub struct Roofline {
    /// Total parameters.
    pub total_params: Range,
    /// Active parameters.
    pub active_params: Range,
    /// Layers (0 when unknown; the fit's central value when `inferred`).
    pub layers: f64,
    /// KV width per layer (0 when unknown).
    pub kv_width: f64,
    /// Attention width (0 when unknown).
    pub attn_width: f64,
    /// A shape inferred from the active parameters, drawn per evaluation in place of `layers`,
    /// `kv_width` and `attn_width` ([`shape`]).
    pub inferred: Option<&'static shape::ShapeFit>,
    /// Batch size.
    pub batch: Range,
    /// Input tokens.
    pub input_tokens: Range,
    /// Accelerators per replica.
    pub accelerators: f64,
    /// Accelerators per server (embodied carbon of servers).
    pub per_server: f64,
    /// Dense peak of one accelerator, FLOP/s.
    pub peak: Range,
    /// Peak bandwidth of one accelerator, B/s.
    pub bandwidth: Range,
    /// MFU when compute-bound.
    pub mfu: Range,
    /// MBU when memory-bound.
    pub mbu: Range,
    /// Decode-step overhead per sequence and layer, s.
    pub step_overhead: Range,
    /// Bytes per weight.
    pub weight_bytes: f64,
    /// Bytes per cached value.
    pub kv_bytes: f64,
    /// Board power, W.
    pub board_w: Range,
    /// Power fraction of board power when fully memory-bound.
    pub power_low: Range,
    /// Power fraction of board power when compute-bound.
    pub power_high: Range,
    /// Idle power fraction of board power.
    pub power_idle: Range,
    /// Busy share of the service's time.
    pub utilisation: Range,
    /// A cap on accelerator power: compute-bound and memory-bound factors, if any.
    pub power_cap: Option<PowerCap>,
    /// A personal device (`board_w` is its power under ML load, flat): the explanation cites
    /// the device's row rather than data-centre serving measurements.
    pub on_device: bool,
}

/// An inference workload to estimate.
#[derive(Clone, Debug)]
pub struct InferSpec {
    /// Where the energy of a request comes from.
    pub energy: Energy,
    /// Output tokens per request (reasoning tokens included).
    pub output_tokens: Range,
    /// How many requests the accounting covers.
    pub volume: Volume,
    /// Host power / accelerator power.
    pub host_share: Range,
    /// Rest-of-server power / accelerator power.
    pub rest_share: Range,
    /// Where it runs.
    pub site: Site,
}

/// One request as the roofline model sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Request {
    /// Accelerator energy of one request (busy share + idle share).
    pub accel: Joules,
    /// What host and rest of server are shares of: the accelerator energy at uncapped power
    /// over the request's (capped) time; `accel` when there is no cap.
    pub host_basis: Joules,
    /// Wall time one replica spends per request, idle share included.
    pub replica_time: Seconds,
    /// Latency of the request (prefill + all decode steps of its batch).
    pub latency: Seconds,
    /// Time of one decode step.
    pub step: Seconds,
    /// Output tokens per second of one replica while busy.
    pub throughput: f64,
    /// Memory of one replica, bytes.
    pub memory: Bytes,
}

impl Roofline {
    fn evaluate<T: StepSink>(&self, d: &mut Draw, t: &mut T, output_tokens: f64) -> Request {
        let mut s = Shape {
            total_params: d.value(&self.total_params),
            active_params: d.value(&self.active_params),
            layers: self.layers,
            kv_width: self.kv_width,
            attn_width: self.attn_width,
        };
        let b = Batch {
            size: d.value(&self.batch),
            input_tokens: d.value(&self.input_tokens),
            output_tokens,
        };
        let r = Replica {
            accelerators: self.accelerators,
            peak: FlopsPerSecond(d.value(&self.peak)),
            bandwidth: BytesPerSecond(d.value(&self.bandwidth)),
            mfu: d.value(&self.mfu),
            mbu: d.value(&self.mbu),
            weight_bytes: self.weight_bytes,
            kv_bytes: self.kv_bytes,
            step_overhead: Seconds(d.value(&self.step_overhead)),
        };
        let board = Watts(d.value(&self.board_w));
        let (lo, hi, idle) = (
            d.value(&self.power_low),
            d.value(&self.power_high),
            d.value(&self.power_idle),
        );
        let util = d.value(&self.utilisation);
        // Drawn only with a cap, so that an uncapped estimate's draws stay as they were.
        let cap = self.power_cap.as_ref().map(|c| {
            let comp = c.compute.draw(d);
            let mem = c.memory.as_ref().map_or(comp, |m| m.draw(d));
            (c.fraction, mem, comp)
        });

        // Drawn last and only for an inferred shape, so that other estimates' draws stay as
        // they were.
        if let Some(fit) = self.inferred {
            let g = fit.draw(d, s.active_params);
            s.layers = g.layers;
            s.kv_width = g.kv_width;
            s.attn_width = g.hidden;
            t.step(|| {
                Step::new(
                    "inferred_shape",
                    format!(
                        "layers = e^(a_L + b_L ln N_active + e_L), hidden = e^(a_h + b_h ln N_active + beta e_L + e_h), KV width = 2 x hidden x r: N_active {} -> {} layers, hidden {}, KV width {}",
                        fmt_input(s.active_params),
                        fmt_input(g.layers),
                        fmt_input(g.hidden),
                        fmt_input(g.kv_width)
                    ),
                    g.layers,
                    "layers",
                )
                .source(format!(
                    "least squares in log space on {} published open models ({}+) of the catalog",
                    fit.members.len(),
                    shape::ERA_FROM
                ))
            });
        }
        let memory = replica_memory(&s, &b, r.weight_bytes, r.kv_bytes);
        t.step(|| {
            Step::new(
                "replica_memory",
                format!(
                    "M = N_total x {} B + layers x KV width x {} B x B x (I + O) = {} x {} + {} x {} x {} x {} x ({} + {})",
                    fmt_input(r.weight_bytes),
                    fmt_input(r.kv_bytes),
                    fmt_input(s.total_params),
                    fmt_input(r.weight_bytes),
                    fmt_input(s.layers),
                    fmt_input(s.kv_width),
                    fmt_input(r.kv_bytes),
                    fmt_input(b.size),
                    fmt_input(b.input_tokens),
                    fmt_input(b.output_tokens)
                ),
                memory.0 / 1e9,
                "GB",
            )
        });
        let pre = prefill(&s, &b, &r);
        t.step(|| {
            Step::new(
                "prefill_time",
                format!(
                    "t_prefill = max(FLOPs / (N_acc x peak x MFU), bytes / (N_acc x BW x MBU)) = max({} / ({} x {} x {}), {} / ({} x {} x {}))",
                    fmt_input(pre.flops.0),
                    fmt_input(r.accelerators),
                    fmt_input(r.peak.0),
                    fmt_input(r.mfu),
                    fmt_input(pre.bytes.0),
                    fmt_input(r.accelerators),
                    fmt_input(r.bandwidth.0),
                    fmt_input(r.mbu)
                ),
                pre.time().0,
                "s",
            )
            .source("Kaplan et al. 2020 (2N + 2 n_layer n_ctx d_attn FLOPs per token); roofline: Williams, Waterman, Patterson 2009")
        });
        let dec = decode_step(&s, &b, &r);
        t.step(|| {
            Step::new(
                "decode_step_time",
                format!(
                    "t_step = max(FLOPs / (N_acc x peak x MFU), (weights + B x KV) / (N_acc x BW x MBU)) + B x layers x tau = max({} / ..., {} B / ({} x {} B/s x {})) + {} x {} x {} us",
                    fmt_input(dec.flops.0),
                    fmt_input(dec.bytes.0),
                    fmt_input(r.accelerators),
                    fmt_input(r.bandwidth.0),
                    fmt_input(r.mbu),
                    fmt_input(b.size),
                    fmt_input(s.layers),
                    fmt_input(r.step_overhead.0 * 1e6)
                ),
                dec.time().0 * 1e3,
                "ms",
            )
            .source(if self.on_device {
                "step overhead: none on a device (one sequence at a time)"
            } else {
                "step overhead: Lambda, vLLM benchmarks on Lambda Cloud (LambdaLabsML/vllm-benchmark, 2024)"
            })
        });
        // Under a cap each phase takes T times as long at X / T of its power, T and X blended
        // between the memory- and compute-bound curves by the phase's activity.
        let (kp, kd) = cap.map_or((Drawn::NONE, Drawn::NONE), |(_, m, c)| {
            (
                Drawn::blend(m, c, pre.activity()),
                Drawn::blend(m, c, dec.activity()),
            )
        });
        if let Some((c, _, _)) = cap {
            t.step(|| {
                Step::new(
                    "power_cap",
                    format!(
                        "cap {}% of board power: T = (1 - a) T_mem + a T_comp, X likewise; prefill T = {}, X = {}; decode T = {}, X = {}; power x X / T",
                        fmt_input(c * 100.0),
                        fmt_input(kp.time),
                        fmt_input(kp.energy),
                        fmt_input(kd.time),
                        fmt_input(kd.energy)
                    ),
                    kd.power(),
                    "",
                )
                .source("power-caps table (`wattlens catalog list power-caps`): McDonald et al. 2022 (compute-bound); Ma et al. 2026 (memory-bound decode)")
            });
        }
        let t_pre = Seconds(pre.time().0 * kp.time);
        let t_step = Seconds(dec.time().0 * kd.time);
        let decode = Seconds(t_step.0 * b.output_tokens);
        let busy = Seconds(t_pre.0 + decode.0);
        // Capped power never exceeds the cap: c x board.
        let capped = |p: Watts, k: Drawn| match cap {
            Some((c, _, _)) => Watts((p.0 * k.power()).min(c * board.0)),
            None => p,
        };
        let (u_pre, u_dec) = (
            busy_power(board, lo, hi, pre.activity()),
            busy_power(board, lo, hi, dec.activity()),
        );
        let (p_pre, p_dec) = (capped(u_pre, kp), capped(u_dec, kd));
        t.step(|| {
            Step::new(
                "accelerator_power",
                format!(
                    "P = board x (low + (high - low) x a), a = 1 - max(0, t_weights - t_compute) / t: prefill a = {} -> {} W; decode a = {} -> {} W (board {} W, low {}, high {})",
                    fmt_input(pre.activity()),
                    fmt_input(p_pre.0),
                    fmt_input(dec.activity()),
                    fmt_input(p_dec.0),
                    fmt_input(board.0),
                    fmt_input(lo),
                    fmt_input(hi)
                ),
                p_dec.0,
                "W",
            )
            .source(if self.on_device {
                "the device's power under ML load (its catalog row), flat: low = high = 1"
            } else {
                "low: Ma et al., arXiv 2605.11999 (H200 decode 137-300 W) to Splitwise, ISCA 2024 (H100 token phase 380 W, flat in batch); high: Epoch AI 2025, Lambda vLLM benchmarks 2024 (~95% at 256 sequences)"
            })
        });
        let batch_j = (p_pre * t_pre).0 + (p_dec * decode).0;
        // Host and rest keep their power under a cap and run as long as the request does.
        let uncapped_j = (u_pre * t_pre).0 + (u_dec * decode).0;
        let busy_per_request = Seconds(busy.0 / b.size);
        let idle_time = Seconds(busy_per_request.0 * (1.0 / util - 1.0));
        let idle_j = (board * idle * idle_time).0;
        let accel = Joules(r.accelerators * (batch_j / b.size + idle_j));
        t.step(|| {
            Step::new(
                "accelerator_energy_per_request",
                format!(
                    "E_acc = N_acc x (E_batch / B + P_idle x t_busy / B x (1/U - 1)) = {} x ({} J / {} + {} W x {} s x (1/{} - 1))",
                    fmt_input(r.accelerators),
                    fmt_input(batch_j),
                    fmt_input(b.size),
                    fmt_input(board.0 * idle),
                    fmt_input(busy_per_request.0),
                    fmt_input(util)
                ),
                accel.0,
                "J",
            )
        });
        Request {
            accel,
            host_basis: Joules(r.accelerators * (uncapped_j / b.size + idle_j)),
            replica_time: Seconds(busy_per_request.0 / util),
            latency: busy,
            step: t_step,
            throughput: b.size * b.output_tokens / busy.0,
            memory,
        }
    }
}

/// What an inference evaluation carries to the figures derived from its footprint.
#[derive(Clone, Copy, Debug)]
pub struct InferState {
    out_tokens: f64,
    count: f64,
    per_day: bool,
    /// The modelled request, its accelerators and accelerators per server.
    request: Option<(Request, f64, f64)>,
    it_request: ItEnergy,
    one_busy: Busy,
}

impl Evaluate for InferSpec {
    type State = InferState;

    fn kind(&self) -> ReportKind {
        ReportKind::Infer
    }
    fn site(&self) -> &Site {
        &self.site
    }

    fn evaluate<T: StepSink>(
        &self,
        d: &mut Draw,
        t: &mut T,
        _rec: &mut Record<'_>,
    ) -> Usage<InferState> {
        let out_tokens = d.value(&self.output_tokens);
        let (count, per_day) = match &self.volume {
            Volume::Requests(n) => (d.value(n), false),
            Volume::PerDay(n) => (d.value(n), true),
        };
        let (h, rs) = (d.value(&self.host_share), d.value(&self.rest_share));
        let (request, it_request) = match &self.energy {
            Energy::Modelled(m) => {
                let q = m.evaluate(d, t, out_tokens);
                let acc = KilowattHours::from(q.accel);
                let basis = KilowattHours::from(q.host_basis);
                let it = ItEnergy {
                    accelerators: acc,
                    host: basis * h,
                    rest: basis * rs,
                };
                (Some((q, m.accelerators, m.per_server)), it)
            }
            Energy::Given { it_kwh } => {
                let e = d.value(it_kwh);
                let s = 1.0 + h + rs;
                let it = ItEnergy {
                    accelerators: KilowattHours(e / s),
                    host: KilowattHours(e * h / s),
                    rest: KilowattHours(e * rs / s),
                };
                (None, it)
            }
        };
        t.step(|| {
            Step::new(
                "it_energy_per_request",
                format!(
                    "E_it = E_acc x (1 + host + rest) = {} Wh x (1 + {} + {})",
                    fmt_input(it_request.accelerators.0 * 1e3),
                    fmt_input(h),
                    fmt_input(rs)
                ),
                it_request.total().0 * 1e3,
                "Wh",
            )
        });
        let it = ItEnergy {
            accelerators: it_request.accelerators * count,
            host: it_request.host * count,
            rest: it_request.rest * count,
        };
        // The hardware kept busy: accelerator-hours = requests x replica time x accelerators.
        let busy = match request {
            Some((q, n, per_server)) => {
                let replica_h = Hours::from(q.replica_time).0 * count;
                let period = if per_day { 24.0 } else { replica_h };
                let acc = n * replica_h / period;
                Busy {
                    accelerators: acc,
                    servers: acc / per_server,
                    period: Hours(period),
                }
            }
            None => Busy {
                accelerators: 0.0,
                servers: 0.0,
                period: Hours(if per_day { 24.0 } else { 0.0 }),
            },
        };
        let one_busy = match request {
            Some((q, n, per_server)) => Busy {
                accelerators: n,
                servers: n / per_server,
                period: Hours::from(q.replica_time),
            },
            None => Busy::default(),
        };
        Usage {
            it,
            busy,
            state: InferState {
                out_tokens,
                count,
                per_day,
                request,
                it_request,
                one_busy,
            },
        }
    }

    fn finish<T: StepSink>(&self, s: InferState, fp: &Footprint, t: &mut T, rec: &mut Record<'_>) {
        let InferState {
            out_tokens,
            count,
            per_day,
            request,
            it_request,
            one_busy,
        } = s;
        // One request at the very site values the totals used.
        let one = fp.site.footprint(&it_request, &one_busy);
        let fac = fp.facility;
        t.step(|| {
            Step::new(
                "energy_per_request",
                format!(
                    "E_fac of one request = E_it x PUE; the totals cover {} requests",
                    fmt_input(count)
                ),
                one.facility.0 * 1e3,
                "Wh",
            )
        });
        rec.put(Figure::Requests, count);
        rec.put(Figure::EnergyPerRequest, one.facility.0 * 1e3);
        rec.put(Figure::CarbonPerRequest, one.carbon().0 * 1e3);
        rec.put(Figure::WaterPerRequest, one.water().0 * 1e3);
        rec.put(Figure::ItEnergyPerRequest, it_request.total().0 * 1e3);
        rec.put(
            Figure::AcceleratorEnergyPerRequest,
            it_request.accelerators.0 * 1e3,
        );
        rec.put(
            Figure::EnergyPer1kTokens,
            one.facility.0 * 1e3 * 1000.0 / out_tokens,
        );
        rec.put(
            Figure::AcceleratorEnergyPerToken,
            Joules::from(it_request.accelerators).0 / out_tokens,
        );
        rec.put(Figure::OutputTokens, out_tokens);
        if let Some((q, n, _)) = request {
            rec.put(Figure::Accelerators, n);
            rec.put(Figure::Memory, q.memory.0 / 1e9);
            rec.put(Figure::Latency, q.latency.0);
            rec.put(Figure::TimePerOutputToken, q.step.0 * 1e3);
            rec.put(Figure::Throughput, q.throughput);
            if per_day {
                rec.put(
                    Figure::FleetAccelerators,
                    n * count * q.replica_time.0 / SECONDS_PER_DAY,
                );
            }
        }
        if per_day {
            rec.put(Figure::EnergyPerDay, fac.0);
            rec.put(Figure::EnergyPerYear, fac.0 * 365.0);
        }
    }
}

#[cfg(test)]
mod tests;
