//! Tests of `estimate infer --device`, each against hand arithmetic in its comment.

use super::super::{infer, InferInputs};
use crate::catalog::Catalog;
use crate::estimate::resolve::Precision;
use crate::estimate::run_resolved;
use crate::estimate::site::SiteInputs;
use crate::figure::Figure;
use crate::result::Report;
use crate::runner::McOptions;
use crate::uncertainty::Range;

/// A 3 B model in int4 on an iPhone 15 Pro: one prompt token, 100 output tokens, MBU 0.5,
/// at the central values (midpoints of the catalog's ranges).
fn phone(charger: Option<&str>, lifetime_h: Option<f64>) -> Report {
    let i = InferInputs {
        device: Some("iphone-15-pro".into()),
        params: Some(Range::point(3e9)),
        precision: Precision::Int4,
        input_tokens: Some(Range::point(1.0)),
        output_tokens: Some(Range::point(100.0)),
        mbu: Some(Range::point(0.5)),
        charger: charger.map(str::to_string),
        ..InferInputs::default()
    };
    let s = SiteInputs {
        grid: Some("FR".into()),
        lifetime_h: lifetime_h.map(Range::point),
        ..SiteInputs::default()
    };
    let r = infer(&Catalog::embedded(), &i, &s).expect("resolves");
    run_resolved(
        r,
        McOptions {
            samples: 1,
            ..McOptions::default()
        },
    )
}

fn p50(r: &Report, f: Figure) -> f64 {
    r.get(f).expect("figure").p50
}

#[test]
fn a_3b_int4_model_on_a_phone_by_hand() {
    let r = phone(None, None);
    // No shape is given: the inferred one at 3 B (docs/models.md 7.1) has
    // e^(-4.40393 + 0.350705 x ln 3e9) = 25.77 layers and KV width
    // 2 x e^(0.441323 + 0.340818 x ln 3e9) x e^-1.612414 = 2 x 2,640.2 x 0.19941 = 1,052.9.
    let fit = crate::estimate::infer::shape::ShapeFit::shipped()
        .expect("catalog")
        .expect("a fit");
    let s = fit.at(3e9, (0.0, 0.0, 0.0));
    assert!((s.layers - 25.77).abs() < 0.01 && (s.kv_width - 1052.9).abs() < 0.5);
    // Weights 3e9 x 0.5 B = 1.5 GB; a decode step streams them once at 51.2 GB/s x 0.5, and the
    // KV cache of the mean context 1 + 100 / 2 = 51 tokens in 2-byte values: 51 x 25.77 x
    // 1,052.9 x 2 = 2.77 MB; (1.5e9 + 2.77e6) / 25.6e9 = 58.70 ms (compute: 6 GFLOP /
    // (35 TOP/s x 0.25) = 0.69 ms, lower).
    let kv = 51.0 * s.layers * s.kv_width * 2.0;
    let step = (1.5e9 + kv) / (51.2e9 * 0.5);
    assert!((step - 0.058_70).abs() < 1e-5);
    assert!((p50(&r, Figure::TimePerOutputToken) - step * 1e3).abs() < 1e-9);
    // The one prompt token reads the weights once (58.59375 ms): latency = 58.59 ms + 100 steps
    // = 5.929 s.
    let t = 1.5e9 / 25.6e9 + 100.0 * step;
    assert!((p50(&r, Figure::Latency) - t).abs() < 1e-9);
    // Device power 4..8 W, central 6 W, no host or rest: 6 W x 5.929 s = 35.57 J = 9.882 mWh.
    let it_kwh = 6.0 * t / 3.6e6;
    assert!((p50(&r, Figure::ItEnergy) - it_kwh).abs() < 1e-15);
    assert!((p50(&r, Figure::AcceleratorEnergyPerToken) - 6.0 * t / 100.0).abs() < 1e-12);
    // From the wall: x 1 / charger efficiency, drawn between 1 / 0.80 = 1.25 and
    // 1 / 0.72 = 1.3889 (wired), central 1.3194: 9.882 x 1.3194 = 13.04 mWh.
    let wall = it_kwh * (1.0 / 0.8 + 1.0 / 0.72) / 2.0;
    assert!((p50(&r, Figure::FacilityEnergy) - wall).abs() < 1e-15);
    // No on-site water.
    assert_eq!(p50(&r, Figure::OnsiteWater), 0.0);
    // Embodied: 50..58 kg (central 54) x 5.929 s / (3..4 years, central 3.5 x 8760 h x 3600 s)
    // = 54 x 5.929 / 110,376,000 = 2.901e-6 kg.
    let emb = 54.0 * t / (3.5 * 8760.0 * 3600.0);
    assert!((p50(&r, Figure::EmbodiedCarbon) - emb).abs() < 1e-15);
}

#[test]
fn wireless_charging_costs_more_than_wired_and_a_longer_life_less_embodied() {
    let (wired, wireless) = (phone(None, None), phone(Some("wireless"), None));
    // Same device energy; from the wall x (1/0.51 + 1/0.56) / 2 = 1.8733 (wireless) against
    // x (1/0.80 + 1/0.72) / 2 = 1.3194 (wired): 1.42x.
    let ratio = p50(&wireless, Figure::FacilityEnergy) / p50(&wired, Figure::FacilityEnergy);
    let hand = ((1.0 / 0.51 + 1.0 / 0.56) / 2.0) / ((1.0 / 0.8 + 1.0 / 0.72) / 2.0);
    assert!((ratio - hand).abs() < 1e-9 && ratio > 1.4, "{ratio}");
    assert_eq!(
        p50(&wired, Figure::ItEnergy),
        p50(&wireless, Figure::ItEnergy)
    );
    // --lifetime 7 years (61,320 h) instead of 3.5: half the embodied carbon.
    let long = phone(None, Some(7.0 * 8760.0));
    let half = p50(&long, Figure::EmbodiedCarbon) / p50(&wired, Figure::EmbodiedCarbon);
    assert!((half - 0.5).abs() < 1e-9, "{half}");
}

#[test]
fn names_the_device_and_refuses_what_does_not_fit_or_apply() {
    let r = phone(None, None);
    let hw = r.details.hardware().expect("hardware");
    assert_eq!(
        hw.accelerator.as_deref(),
        Some("Apple iPhone 15 Pro (on-device)")
    );
    assert!(r.notes.iter().any(|n| n.starts_with("on-device:")));
    let cat = Catalog::embedded();
    let base = InferInputs {
        device: Some("iphone-15-pro".into()),
        params: Some(Range::point(3e9)),
        ..InferInputs::default()
    };
    let s = SiteInputs::default();
    let err =
        |i: &InferInputs, s: &SiteInputs| infer(&cat, i, s).err().expect("refused").to_string();
    // 70 B in int4 = 35 GB, more than half of 8 GB.
    let big = InferInputs {
        params: Some(Range::point(70e9)),
        precision: Precision::Int4,
        ..base.clone()
    };
    assert!(err(&big, &s).contains("does not fit"), "{}", err(&big, &s));
    let with_gpu = InferInputs {
        hw: crate::estimate::resolve::HardwareInputs {
            gpu: Some("h100".into()),
            ..Default::default()
        },
        ..base.clone()
    };
    assert!(err(&with_gpu, &s).contains("cannot be used together"));
    let pue = SiteInputs {
        pue: Some(Range::point(1.2)),
        ..SiteInputs::default()
    };
    assert!(err(&base, &pue).contains("cannot be used together"));
    // A laptop has no wireless charging in the catalog.
    let laptop = InferInputs {
        device: Some("macbook-air-m3".into()),
        charger: Some("wireless".into()),
        ..base.clone()
    };
    assert!(err(&laptop, &s).contains("no wireless charging"));
    // A charger without a device.
    let charger = InferInputs {
        device: None,
        charger: Some("wired".into()),
        ..base
    };
    assert!(err(&charger, &s).contains("personal device only"));
}
