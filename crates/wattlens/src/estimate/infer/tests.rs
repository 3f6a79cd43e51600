//! Unit tests of the inference model, each against hand arithmetic in its comment.

use super::*;
use crate::runner::{run, McOptions};

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
        step_overhead: Seconds(0.0),
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
fn decode_step_adds_the_per_sequence_overhead() {
    // Llama 3 8B, batch 64, 500 in / 300 out: mean context c = 500 + 300 / 2 = 650.
    // bytes = 16e9 + 64 x 650 x 131,072 B = 21.4526 GB; at 3.35 TB/s x 0.7 = 9.148 ms.
    // FLOPs = 64 x (2 x 8e9 + 2 x 32 x 4096 x 650) = 1.0349e12; at 989 T x 0.5 = 2.093 ms.
    // overhead = 64 sequences x 32 layers x 1.5 us = 3.072 ms; step = 9.148 + 3.072 = 12.220 ms.
    let b = Batch {
        size: 64.0,
        input_tokens: 500.0,
        output_tokens: 300.0,
    };
    let r = Replica {
        step_overhead: Seconds(1.5e-6),
        ..h100(0.5, 0.7)
    };
    let p = decode_step(&llama3_8b(), &b, &r);
    let bytes = 16e9 + 64.0 * 650.0 * 131_072.0;
    assert!((p.bytes.0 - bytes).abs() < 1.0);
    assert!((p.memory.0 - bytes / (3.35e12 * 0.7)).abs() < 1e-12);
    let flops = 64.0 * (16e9 + 2.0 * 32.0 * 4096.0 * 650.0);
    assert!((p.compute.0 - flops / (989e12 * 0.5)).abs() < 1e-12);
    assert!((p.overhead.0 - 3.072e-3).abs() < 1e-12);
    assert!((p.time().0 * 1e3 - 12.220).abs() < 1e-3, "{}", p.time().0);
    // the compute-bound share counts the overhead as time: 2.093 / 12.220 = 0.171
    assert!((p.utilisation() - p.compute.0 / p.time().0).abs() < 1e-12);
    assert!((p.utilisation() - 0.1713).abs() < 1e-3);
    // weights alone: 16 GB at 3.35 TB/s x 0.7 = 6.823 ms, of which compute overlaps 2.093 ms:
    // activity = 1 - (6.823 - 2.093) / 12.220 = 1 - 4.730 / 12.220 = 0.6129
    assert!((p.weight_stream.0 - 16e9 / (3.35e12 * 0.7)).abs() < 1e-12);
    assert!((p.activity() - 0.6129).abs() < 1e-3, "{}", p.activity());
    // prefill has no step overhead
    assert_eq!(prefill(&llama3_8b(), &b, &r).overhead.0, 0.0);
}

#[test]
fn activity_is_low_when_only_streaming_weights_and_one_when_compute_bound() {
    // Batch 1, no layers: the step only streams 16 GB (4.776 ms at 3.35 TB/s); compute
    // 16 GFLOP / 989 T = 0.0162 ms overlaps it: activity = 1 - (4.776 - 0.0162) / 4.776 = 0.0034.
    let s = Shape {
        layers: 0.0,
        ..llama3_8b()
    };
    let one = Batch {
        size: 1.0,
        input_tokens: 100.0,
        output_tokens: 100.0,
    };
    let p = decode_step(&s, &one, &h100(1.0, 1.0));
    assert!((p.activity() - (16e9 / 989e12) / (16e9 / 3.35e12)).abs() < 1e-12);
    // At batch 512 (compute-bound, see decode_at_large_batch_hits_the_compute_floor) the
    // weights stream under the compute: activity 1. So is a compute-bound prefill.
    let big = Batch { size: 512.0, ..one };
    assert_eq!(decode_step(&s, &big, &h100(0.5, 1.0)).activity(), 1.0);
    let prompt = Batch {
        size: 1.0,
        input_tokens: 1000.0,
        output_tokens: 1.0,
    };
    assert_eq!(
        prefill(&llama3_8b(), &prompt, &h100(0.5, 1.0)).activity(),
        1.0
    );
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
            inferred: None,
            batch: Range::point(1.0),
            input_tokens: Range::point(1.0),
            accelerators: 1.0,
            per_server: 8.0,
            peak: Range::point(989e12),
            bandwidth: Range::point(3.35e12),
            mfu: Range::point(1.0),
            mbu: Range::point(1.0),
            step_overhead: Range::point(0.0),
            weight_bytes: 2.0,
            kv_bytes: 2.0,
            board_w: Range::point(700.0),
            power_low: Range::point(0.3),
            power_high: Range::point(0.3),
            power_idle: Range::point(0.1),
            utilisation: Range::point(util),
            power_cap: None,
            on_device: false,
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
    let wh = e.get(Figure::EnergyPerRequest).expect("wh").p50;
    assert!((wh - j / 3600.0).abs() < 1e-9, "{wh}");
    // per 1,000 output tokens: the same (1000 tokens a request)
    assert!((e.get(Figure::EnergyPer1kTokens).expect("k").p50 - wh).abs() < 1e-12);
    assert!((e.get(Figure::Latency).expect("l").p50 - busy_s).abs() < 1e-9);
    assert_eq!(e.get(Figure::Accelerators).expect("n").p50, 1.0);
    // embodied: 1 accelerator busy 2 x 4.781 s of 4 years: 150 kg x 9.56 s / 126,144,000 s
    let emb = e.get(Figure::EmbodiedCarbon).expect("emb").p50;
    assert!((emb - (150.0 + 1000.0 / 8.0) * 2.0 * busy_s / (4.0 * 8760.0 * 3600.0)).abs() < 1e-12);
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
    assert!((e.get(Figure::EnergyPerDay).expect("d").p50 - kwh).abs() < 1e-6);
    assert!((e.get(Figure::EnergyPerYear).expect("y").p50 - kwh * 365.0).abs() < 1e-3);
    let fleet = e.get(Figure::FleetAccelerators).expect("f").p50;
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
    assert!((e.get(Figure::Water).expect("w").p50 - 0.014).abs() < 1e-12);
    assert!((e.get(Figure::EnergyPerRequest).expect("e").p50 - 6.0).abs() < 1e-9);
    // components: 4 Wh / 1.5 = 2.667 Wh accelerators
    assert!((e.get(Figure::ComponentAccelerators).expect("a").p50 - 0.004 / 1.5).abs() < 1e-12);
    assert_eq!(e.get(Figure::EmbodiedCarbon).expect("emb").p50, 0.0);
}

#[test]
fn two_threads_give_the_same_samples_as_one() {
    // The per-request accounting replays the evaluation's draws; the thread split must still
    // see the same stream.
    let mut s = spec(0.5, Volume::PerDay(Range::point(1e6)));
    if let Energy::Modelled(m) = &mut s.energy {
        m.mbu = Range::new(0.6, 0.85);
        m.batch = Range::new(1.0, 64.0);
    }
    s.site.pue = crate::footprint::Param::new(Range::new(1.1, 1.5), "test");
    let opts = |threads| McOptions {
        samples: 20_001,
        seed: 3,
        threads,
    };
    let one = run(&s, opts(1), vec![]);
    let two = run(&s, opts(2), vec![]);
    assert_eq!(one.figures, two.figures);
    let p = one.get(Figure::EnergyPerRequest).expect("e");
    assert!(p.p5 < p.p50 && p.p50 < p.p95);
    // per request x requests = per day, sample by sample, so at every percentile
    let day = one.get(Figure::EnergyPerDay).expect("d");
    assert!((day.p50 / (p.p50 * 1e3) - 1.0).abs() < 1e-5);
}
