//! Inference: the energy of one request from the model's shape, the hardware and batching, by a
//! roofline model, then the shared footprint accounting per request, per 1,000 output tokens and
//! per day or year at a request rate.
//!
//! - memory: weights (total params x bytes) + KV cache (layers x KV width x bytes x context x
//!   batch) decide how many accelerators one replica needs;
//! - prefill is compute-bound: `2 x active params x input tokens` (+ attention) at peak x MFU;
//! - each decode step reads the weights once for the whole batch and each sequence's KV cache, at
//!   peak bandwidth x MBU, with a compute floor at large batch (roofline);
//! - accelerator power rises with the compute-bound share of each phase, from a low fraction of
//!   board power (memory-bound decode) to a high one (compute-bound prefill); idle time between
//!   requests (`--utilization`) draws idle power;
//! - host and rest of server are shares of the accelerator's power, as in the `tdp` basis.
//!
//! Each equation is a plain function with a hand-checked unit test; docs/models.md gives the
//! sources.

use super::Model;
use crate::explain::{NoTrace, Step, Trace};
use crate::footprint::{account, Busy, ItEnergy, Site};
use crate::record::Record;
use crate::uncertainty::{fmt_num, Draw, Range};
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
}

impl Phase {
    /// The roofline: the slower of compute and memory.
    #[must_use]
    pub fn time(&self) -> Seconds {
        Seconds(self.compute.0.max(self.memory.0))
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
    Phase {
        flops,
        bytes,
        compute: flops / FlopsPerSecond(r.accelerators * r.peak.0 * r.mfu),
        memory: bytes / BytesPerSecond(r.accelerators * r.bandwidth.0 * r.mbu),
    }
}

/// One decode step (one token for each sequence of the batch) at the mean context
/// `c = I + O / 2`: reads the weights once and each sequence's KV cache;
/// `FLOPs = B x (2 x N_active + 2 x layers x d_attn x c)`.
#[must_use]
pub fn decode_step(s: &Shape, b: &Batch, r: &Replica) -> Phase {
    let c = b.input_tokens + b.output_tokens / 2.0;
    let flops = Flops(b.size * (2.0 * s.active_params + 2.0 * s.layers * s.attn_width * c));
    let kv = kv_per_token(s, r.kv_bytes).0 * b.size * c;
    let bytes = Bytes(weights_read(s, b.size, r.weight_bytes).0 + kv);
    Phase {
        flops,
        bytes,
        compute: flops / FlopsPerSecond(r.accelerators * r.peak.0 * r.mfu),
        memory: bytes / BytesPerSecond(r.accelerators * r.bandwidth.0 * r.mbu),
    }
}

/// Power of one accelerator at compute-bound share `u`:
/// `board x (low + (high - low) x u)`.
#[must_use]
pub fn busy_power(board: Watts, low: f64, high: f64, u: f64) -> Watts {
    board * (low + (high - low) * u.clamp(0.0, 1.0))
}

/// How much work the accounting covers.
#[derive(Clone, Debug, PartialEq)]
pub enum Volume {
    /// A number of requests (1 when nothing is given).
    Requests(Range),
    /// Requests per day; the accounting covers one day.
    PerDay(Range),
}

/// Where the energy of one request comes from.
#[derive(Clone, Debug, PartialEq)]
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
    /// Layers (0 when unknown).
    pub layers: f64,
    /// KV width per layer (0 when unknown).
    pub kv_width: f64,
    /// Attention width (0 when unknown).
    pub attn_width: f64,
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
    fn evaluate<T: Trace>(&self, d: &mut Draw, t: &mut T, output_tokens: f64) -> Request {
        let s = Shape {
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
        };
        let board = Watts(d.value(&self.board_w));
        let (lo, hi, idle) = (
            d.value(&self.power_low),
            d.value(&self.power_high),
            d.value(&self.power_idle),
        );
        let util = d.value(&self.utilisation);

        let memory = replica_memory(&s, &b, r.weight_bytes, r.kv_bytes);
        t.step(|| {
            Step::new(
                "replica_memory",
                format!(
                    "M = N_total x {} B + layers x KV width x {} B x B x (I + O) = {} x {} + {} x {} x {} x {} x ({} + {})",
                    fmt_num(r.weight_bytes),
                    fmt_num(r.kv_bytes),
                    fmt_num(s.total_params),
                    fmt_num(r.weight_bytes),
                    fmt_num(s.layers),
                    fmt_num(s.kv_width),
                    fmt_num(r.kv_bytes),
                    fmt_num(b.size),
                    fmt_num(b.input_tokens),
                    fmt_num(b.output_tokens)
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
                    fmt_num(pre.flops.0),
                    fmt_num(r.accelerators),
                    fmt_num(r.peak.0),
                    fmt_num(r.mfu),
                    fmt_num(pre.bytes.0),
                    fmt_num(r.accelerators),
                    fmt_num(r.bandwidth.0),
                    fmt_num(r.mbu)
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
                    "t_step = max(FLOPs / (N_acc x peak x MFU), (weights + B x KV) / (N_acc x BW x MBU)) = max({} / ..., {} B / ({} x {} B/s x {}))",
                    fmt_num(dec.flops.0),
                    fmt_num(dec.bytes.0),
                    fmt_num(r.accelerators),
                    fmt_num(r.bandwidth.0),
                    fmt_num(r.mbu)
                ),
                dec.time().0 * 1e3,
                "ms",
            )
        });
        let decode = Seconds(dec.time().0 * b.output_tokens);
        let busy = Seconds(pre.time().0 + decode.0);
        let (p_pre, p_dec) = (
            busy_power(board, lo, hi, pre.utilisation()),
            busy_power(board, lo, hi, dec.utilisation()),
        );
        t.step(|| {
            Step::new(
                "accelerator_power",
                format!(
                    "P = board x (low + (high - low) x u): prefill u = {} -> {} W; decode u = {} -> {} W (board {} W, low {}, high {})",
                    fmt_num(pre.utilisation()),
                    fmt_num(p_pre.0),
                    fmt_num(dec.utilisation()),
                    fmt_num(p_dec.0),
                    fmt_num(board.0),
                    fmt_num(lo),
                    fmt_num(hi)
                ),
                p_dec.0,
                "W",
            )
        });
        let batch_j = (p_pre * pre.time()).0 + (p_dec * decode).0;
        let busy_per_request = Seconds(busy.0 / b.size);
        let idle_time = Seconds(busy_per_request.0 * (1.0 / util - 1.0));
        let idle_j = (board * idle * idle_time).0;
        let accel = Joules(r.accelerators * (batch_j / b.size + idle_j));
        t.step(|| {
            Step::new(
                "accelerator_energy_per_request",
                format!(
                    "E_acc = N_acc x (E_batch / B + P_idle x t_busy / B x (1/U - 1)) = {} x ({} J / {} + {} W x {} s x (1/{} - 1))",
                    fmt_num(r.accelerators),
                    fmt_num(batch_j),
                    fmt_num(b.size),
                    fmt_num(board.0 * idle),
                    fmt_num(busy_per_request.0),
                    fmt_num(util)
                ),
                accel.0,
                "J",
            )
        });
        Request {
            accel,
            replica_time: Seconds(busy_per_request.0 / util),
            latency: busy,
            step: dec.time(),
            throughput: b.size * b.output_tokens / busy.0,
            memory,
        }
    }
}

impl Model for InferSpec {
    fn kind(&self) -> &'static str {
        "infer"
    }
    fn site(&self) -> &Site {
        &self.site
    }

    fn evaluate<T: Trace>(&self, d: &mut Draw, t: &mut T, rec: &mut Record<'_>) {
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
                let it = ItEnergy {
                    accelerators: acc,
                    host: acc * h,
                    rest: acc * rs,
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
                    fmt_num(it_request.accelerators.0 * 1e3),
                    fmt_num(h),
                    fmt_num(rs)
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
        let one = one_request(&self.site, d, &it_request, &one_busy);
        let fac = account(&self.site, d, t, &it, &busy, rec);
        t.step(|| {
            Step::new(
                "energy_per_request",
                format!(
                    "E_fac of one request = E_it x PUE; the totals cover {} requests",
                    fmt_num(count)
                ),
                one.facility_kwh * 1e3,
                "Wh",
            )
        });
        rec.put("requests", count);
        rec.put("energy_wh_per_request", one.facility_kwh * 1e3);
        rec.put("carbon_g_per_request", one.carbon_kg * 1e3);
        rec.put("water_ml_per_request", one.water_l * 1e3);
        rec.put("it_energy_wh_per_request", it_request.total().0 * 1e3);
        rec.put(
            "accelerator_energy_wh_per_request",
            it_request.accelerators.0 * 1e3,
        );
        rec.put(
            "energy_wh_per_1k_tokens",
            one.facility_kwh * 1e3 * 1000.0 / out_tokens,
        );
        rec.put(
            "accelerator_energy_j_per_token",
            Joules::from(it_request.accelerators).0 / out_tokens,
        );
        rec.put("output_tokens", out_tokens);
        if let Some((q, n, _)) = request {
            rec.put("accelerators", n);
            rec.put("memory_gb", q.memory.0 / 1e9);
            rec.put("latency_s", q.latency.0);
            rec.put("time_per_output_token_ms", q.step.0 * 1e3);
            rec.put("throughput_tokens_per_s", q.throughput);
            if per_day {
                rec.put(
                    "fleet_accelerators",
                    n * count * q.replica_time.0 / SECONDS_PER_DAY,
                );
            }
        }
        if per_day {
            rec.put("energy_kwh_per_day", fac.0);
            rec.put("energy_kwh_per_year", fac.0 * 365.0);
        }
    }
}

/// The footprint of one request.
#[derive(Clone, Copy, Debug, Default)]
struct OneRequest {
    facility_kwh: f64,
    carbon_kg: f64,
    water_l: f64,
}

/// Runs the accounting core on one request's IT energy, replaying the evaluation's draws so that
/// the site values (PUE, intensity, water) are the very ones the totals use.
fn one_request(site: &Site, d: &Draw, it: &ItEnergy, busy: &Busy) -> OneRequest {
    let mut replay = match d {
        Draw::Central { .. } => Draw::Central { uncertain: 0 },
        Draw::Random(rng) => Draw::Random(rng.clone()),
    };
    let mut rec = Record::central();
    let _ = account(site, &mut replay, &mut NoTrace, it, busy, &mut rec);
    let mut one = OneRequest::default();
    if let Record::Central { keys, values } = rec {
        for (k, v) in keys.into_iter().zip(values) {
            match k {
                "facility_energy_kwh" => one.facility_kwh = v,
                "carbon_kgco2e" => one.carbon_kg = v,
                "water_l" => one.water_l = v,
                _ => {}
            }
        }
    }
    one
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::{run, McOptions};

    fn llama3_8b() -> Shape {
        Shape {
            total_params: 8e9,
            active_params: 8e9,
            layers: 32.0,
            kv_width: 2.0 * 8.0 * 128.0,
            attn_width: 32.0 * 128.0,
        }
    }

    fn h100(mfu: f64, mbu: f64) -> Replica {
        Replica {
            accelerators: 1.0,
            peak: FlopsPerSecond(989e12),
            bandwidth: BytesPerSecond(3.35e12),
            mfu,
            mbu,
            weight_bytes: 2.0,
            kv_bytes: 2.0,
        }
    }

    #[test]
    fn weights_and_kv_cache() {
        // 8 B params x 2 B (bf16) = 16 GB
        assert_eq!(weight_memory(8e9, 2.0).0, 16e9);
        // Llama 3 8B: 32 layers x (2 x 8 KV heads x 128) x 2 B = 131,072 B = 128 KiB per token
        assert_eq!(kv_per_token(&llama3_8b(), 2.0).0, 131_072.0);
        // batch 4 x (1000 + 1000) tokens x 131,072 B = 1.048576 GB, + 16 GB
        let b = Batch {
            size: 4.0,
            input_tokens: 1000.0,
            output_tokens: 1000.0,
        };
        assert!((replica_memory(&llama3_8b(), &b, 2.0, 2.0).0 - 17.048_576e9).abs() < 1.0);
        // int4: 8e9 x 0.5 B = 4 GB
        assert_eq!(weight_memory(8e9, 0.5).0, 4e9);
    }

    #[test]
    fn accelerators_round_up_to_a_power_of_two() {
        // 140 GB / 72 GB = 1.94 -> 2; 300 GB / 72 GB = 4.2 -> 5 -> 8; 10 GB -> 1
        assert_eq!(accelerators_needed(Bytes(140e9), Bytes(72e9)), 2.0);
        assert_eq!(accelerators_needed(Bytes(300e9), Bytes(72e9)), 8.0);
        assert_eq!(accelerators_needed(Bytes(10e9), Bytes(72e9)), 1.0);
    }

    #[test]
    fn decode_at_batch_one_is_bandwidth_bound() {
        // 8 B params in bf16 at batch 1 read 16 GB a token; at 3.35 TB/s that is 4.78 ms.
        // No layers given, so no KV cache and no attention term.
        let s = Shape {
            layers: 0.0,
            ..llama3_8b()
        };
        let b = Batch {
            size: 1.0,
            input_tokens: 100.0,
            output_tokens: 100.0,
        };
        let p = decode_step(&s, &b, &h100(1.0, 1.0));
        assert_eq!(p.bytes.0, 16e9);
        assert!((p.memory.0 - 16e9 / 3.35e12).abs() < 1e-12);
        assert!((p.time().0 * 1e3 - 4.776).abs() < 1e-3);
        // compute: 2 x 8e9 = 16 GFLOP at 989 TFLOP/s = 16.2 us, so u = 0.0162 ms / 4.776 ms
        assert!((p.compute.0 - 16e9 / 989e12).abs() < 1e-15);
        assert!((p.utilisation() - (16e9 / 989e12) / (16e9 / 3.35e12)).abs() < 1e-12);
    }

    #[test]
    fn decode_at_large_batch_hits_the_compute_floor() {
        // batch 512 x 2 x 8e9 = 8.192e12 FLOP at 989 TFLOP/s x 0.5 = 16.57 ms;
        // memory 16 GB + 512 x 150 x 131,072 B = 26.07 GB at 3.35 TB/s = 7.78 ms -> compute wins.
        let b = Batch {
            size: 512.0,
            input_tokens: 100.0,
            output_tokens: 100.0,
        };
        let s = Shape {
            attn_width: 0.0,
            ..llama3_8b()
        };
        let p = decode_step(&s, &b, &h100(0.5, 1.0));
        assert!((p.compute.0 - 8.192e12 / (989e12 * 0.5)).abs() < 1e-12);
        assert!((p.bytes.0 - (16e9 + 512.0 * 150.0 * 131_072.0)).abs() < 1.0);
        assert_eq!(p.time(), p.compute);
        assert_eq!(p.utilisation(), 1.0);
    }

    #[test]
    fn prefill_is_compute_bound() {
        // 1000 tokens x 2 x 8e9 = 1.6e13 FLOP, + attention 32 x 4096 x 1000^2 = 1.31e11;
        // at 989 TFLOP/s x 0.5 = 32.6 ms; weights 16 GB at 3.35 TB/s = 4.8 ms
        let b = Batch {
            size: 1.0,
            input_tokens: 1000.0,
            output_tokens: 1.0,
        };
        let p = prefill(&llama3_8b(), &b, &h100(0.5, 1.0));
        let flops = 1.6e13 + 32.0 * 4096.0 * 1e6;
        assert!((p.flops.0 - flops).abs() < 1.0);
        assert!((p.time().0 - flops / (989e12 * 0.5)).abs() < 1e-12);
        assert_eq!(p.utilisation(), 1.0);
    }

    #[test]
    fn moe_reads_active_weights_at_batch_one_and_all_at_large_batch() {
        // Mixtral-like: 46.7 B total, 12.9 B active, fp8 (1 B): batch 1 reads 12.9 GB,
        // batch 8 reads min(46.7, 8 x 12.9) = 46.7 GB.
        let s = Shape {
            total_params: 46.7e9,
            active_params: 12.9e9,
            layers: 0.0,
            kv_width: 0.0,
            attn_width: 0.0,
        };
        assert!((weights_read(&s, 1.0, 1.0).0 - 12.9e9).abs() < 1.0);
        assert!((weights_read(&s, 8.0, 1.0).0 - 46.7e9).abs() < 1.0);
    }

    #[test]
    fn power_rises_with_utilisation() {
        // 700 W x (0.3 + (0.9 - 0.3) x 0.5) = 700 x 0.6 = 420 W
        assert!((busy_power(Watts(700.0), 0.3, 0.9, 0.5).0 - 420.0).abs() < 1e-9);
        assert_eq!(busy_power(Watts(700.0), 0.3, 0.9, 0.0).0, 210.0);
        assert!((busy_power(Watts(700.0), 0.3, 0.9, 1.0).0 - 630.0).abs() < 1e-9);
    }

    fn spec(util: f64, volume: Volume) -> InferSpec {
        let mut site = crate::footprint::tests_support::site();
        site.pue = crate::footprint::Param::new(Range::point(1.0), "test");
        InferSpec {
            energy: Energy::Modelled(Box::new(Roofline {
                total_params: Range::point(8e9),
                active_params: Range::point(8e9),
                layers: 0.0,
                kv_width: 0.0,
                attn_width: 0.0,
                batch: Range::point(1.0),
                input_tokens: Range::point(1.0),
                accelerators: 1.0,
                per_server: 8.0,
                peak: Range::point(989e12),
                bandwidth: Range::point(3.35e12),
                mfu: Range::point(1.0),
                mbu: Range::point(1.0),
                weight_bytes: 2.0,
                kv_bytes: 2.0,
                board_w: Range::point(700.0),
                power_low: Range::point(0.3),
                power_high: Range::point(0.3),
                power_idle: Range::point(0.1),
                utilisation: Range::point(util),
            })),
            output_tokens: Range::point(1000.0),
            volume,
            host_share: Range::point(0.0),
            rest_share: Range::point(0.0),
            site,
        }
    }

    #[test]
    fn request_energy_with_idle_time() {
        // Power flat at 0.3 x 700 = 210 W. Prefill of 1 token: max(16 GFLOP / 989 T, 16 GB / 3.35 T)
        // = 4.776 ms; 1000 decode steps x 4.776 ms = 4.776 s; busy 4.781 s x 210 W = 1004.0 J.
        // At utilisation 0.5 the replica idles as long again at 70 W: + 334.7 J = 1338.7 J.
        let busy_s = 1001.0 * 16e9 / 3.35e12;
        let e = run(
            &spec(0.5, Volume::Requests(Range::point(1.0))),
            McOptions::default(),
            vec![],
        );
        let j = busy_s * 210.0 + busy_s * 70.0;
        let wh = e.get("energy_wh_per_request").expect("wh").p50;
        assert!((wh - j / 3600.0).abs() < 1e-9, "{wh}");
        // per 1,000 output tokens: the same (1000 tokens a request)
        assert!((e.get("energy_wh_per_1k_tokens").expect("k").p50 - wh).abs() < 1e-12);
        assert!((e.get("latency_s").expect("l").p50 - busy_s).abs() < 1e-9);
        assert_eq!(e.get("accelerators").expect("n").p50, 1.0);
        // embodied: 1 accelerator busy 2 x 4.781 s of 4 years: 150 kg x 9.56 s / 126,144,000 s
        let emb = e.get("embodied_carbon_kgco2e").expect("emb").p50;
        assert!(
            (emb - (150.0 + 1000.0 / 8.0) * 2.0 * busy_s / (4.0 * 8760.0 * 3600.0)).abs() < 1e-12
        );
    }

    #[test]
    fn a_request_rate_gives_a_day_and_a_fleet() {
        // 1e6 requests a day x 1338.7 J = 371.9 kWh a day; replicas busy 1e6 x 9.56 s / 86,400 s
        let busy_s = 1001.0 * 16e9 / 3.35e12;
        let e = run(
            &spec(0.5, Volume::PerDay(Range::point(1e6))),
            McOptions::default(),
            vec![],
        );
        let kwh = 1e6 * busy_s * 280.0 / 3.6e6;
        assert!((e.get("energy_kwh_per_day").expect("d").p50 - kwh).abs() < 1e-6);
        assert!((e.get("energy_kwh_per_year").expect("y").p50 - kwh * 365.0).abs() < 1e-3);
        let fleet = e.get("fleet_accelerators").expect("f").p50;
        assert!((fleet - 1e6 * 2.0 * busy_s / 86_400.0).abs() < 1e-9);
    }

    #[test]
    fn given_energy_per_request_keeps_the_accounting() {
        // Li et al. 2023: 4 Wh IT x (0.5 L/kWh on-site) + 4 Wh x PUE 1.5 x 2 L/kWh = 2 + 12 mL
        let mut s = spec(1.0, Volume::Requests(Range::point(1.0)));
        s.site = crate::footprint::tests_support::site();
        s.energy = Energy::Given {
            it_kwh: Range::point(0.004),
        };
        s.host_share = Range::point(0.2);
        s.rest_share = Range::point(0.3);
        let e = run(&s, McOptions::default(), vec![]);
        assert!((e.get("water_l").expect("w").p50 - 0.014).abs() < 1e-12);
        assert!((e.get("energy_wh_per_request").expect("e").p50 - 6.0).abs() < 1e-9);
        // components: 4 Wh / 1.5 = 2.667 Wh accelerators
        assert!((e.get("component.accelerators").expect("a").p50 - 0.004 / 1.5).abs() < 1e-12);
        assert_eq!(e.get("embodied_carbon_kgco2e").expect("emb").p50, 0.0);
    }
}
