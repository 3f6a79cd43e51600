use super::*;

fn shipped() -> &'static ShapeFit {
    ShapeFit::shipped().expect("catalog").expect("a fit")
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1e-12)
}

#[test]
fn line_by_hand() {
    // y = 1 + 2x through (0, 1), (1, 3), (2, 5): a 1, b 2, no residual.
    let (l, e) = line(&[0.0, 1.0, 2.0], &[1.0, 3.0, 5.0]);
    assert!(close(l.a, 1.0, 1e-12) && close(l.b, 2.0, 1e-12));
    assert!(l.s.abs() < 1e-12 && e.iter().all(|v| v.abs() < 1e-12));
    // (0, 0), (1, 2), (2, 1), (3, 3): mean x 1.5, mean y 1.5;
    // Sxy = (-1.5)(-1.5) + (-0.5)(0.5) + (0.5)(-0.5) + (1.5)(1.5) = 4.0, Sxx = 5 -> b 0.8,
    // a = 1.5 - 1.2 = 0.3; fitted 0.3, 1.1, 1.9, 2.7, residuals -0.3, 0.9, -0.9, 0.3 -> SSE 1.8,
    // s = sqrt(1.8 / 2).
    let (l, _) = line(&[0.0, 1.0, 2.0, 3.0], &[0.0, 2.0, 1.0, 3.0]);
    assert!(close(l.b, 0.8, 1e-12) && close(l.a, 0.3, 1e-12));
    assert!(close(l.s, 0.9f64.sqrt(), 1e-12));
}

#[test]
fn shipped_fit_comes_from_the_table() {
    // Pinned against an independent computation (Python, statistics module, on
    // crates/wattlens/data/models.csv: rows of 2024+ with a full shape, deduplicated by
    // (layers, hidden, heads, KV width)): 16 shapes; ln L = -4.40393 + 0.350705 ln N, s 0.207793;
    // ln h = 0.441323 + 0.340818 ln N, beta -0.263644, s 0.117619; ln r mean -1.61241, sd 0.784658.
    // A change to models.csv moves these: re-derive them and say why the shape moved.
    let fit = shipped();
    assert_eq!(fit.members.len(), 16, "{}", fit.names());
    assert!(fit
        .names()
        .starts_with("Llama 3 8B, Llama 3 70B, Llama 3.1 405B"));
    assert!(!fit.names().contains("Llama 2"), "pre-2024 rows stay out");
    assert!(
        !fit.names().contains("Qwen2.5 72B"),
        "same shape as Llama 3 70B"
    );
    for (got, want) in [
        (fit.layers.a, -4.403_929),
        (fit.layers.b, 0.350_705),
        (fit.layers.s, 0.207_793),
        (fit.hidden.a, 0.441_323),
        (fit.hidden.b, 0.340_818),
        (fit.hidden.s, 0.117_619),
        (fit.beta, -0.263_644),
        (fit.ratio_mu, -1.612_414),
        (fit.ratio_s, 0.784_658),
    ] {
        assert!(close(got, want, 1e-5), "{got} vs {want}");
    }
    // At 8.03 B: layers e^(-4.40393 + 0.350705 x 22.8065) = 36.39, hidden 3,693, KV width
    // 2 x 3,693 x e^-1.61241 = 1,472.8 (Llama 3.1 8B: 32, 4,096, 2,048).
    let c = fit.at(8.03e9, (0.0, 0.0, 0.0));
    assert!(close(c.layers, 36.394, 1e-4) && close(c.hidden, 3692.96, 1e-4));
    assert!(close(c.kv_width, 1472.79, 1e-4));
}

#[test]
fn published_shapes_fall_inside_the_ranges() {
    // The fit's P5..P95 hold most of the population it came from (a check of the spread, not
    // of the centre): layers, hidden and KV width of each member at its own size.
    let fit = shipped();
    let (mut inside, mut all) = (0, 0);
    for m in &fit.members {
        let (l, h, k) = fit.ranges(m.active);
        for (r, v) in [(l, m.layers), (h, m.hidden), (k, m.kv_width)] {
            all += 1;
            inside += usize::from(r.lo <= v && v <= r.hi);
        }
    }
    // 90% ranges: expect about 43 of 48; fewer than 38 means the spread is too narrow.
    assert!(inside >= 38, "{inside} of {all}");
    assert!(
        inside < all,
        "a range that holds everything is wider than its data"
    );
}

#[test]
fn draws_span_the_ranges_and_centre_on_the_fit() {
    let fit = shipped();
    let mut central = Draw::Central { uncertain: 0 };
    assert_eq!(fit.draw(&mut central, 70e9), fit.at(70e9, (0.0, 0.0, 0.0)));
    // Ends of the draw: -1 and 1 are 1/0.9 of the P5..P95 half-width.
    let (l, _, _) = fit.ranges(70e9);
    let lo = fit.at(70e9, (-1.0, 0.0, 0.0)).layers;
    assert!(lo < l.lo && (l.lo / lo).ln() > 0.0);
    assert!(close(
        (l.lo / lo).ln() * 9.0,
        (fit.at(70e9, (0.0, 0.0, 0.0)).layers / l.lo).ln(),
        1e-9
    ));
    // A deeper draw is narrower (beta < 0).
    assert!(fit.at(70e9, (1.0, 0.0, 0.0)).hidden < fit.at(70e9, (-1.0, 0.0, 0.0)).hidden);
}

#[test]
fn smallest_kv_cache_is_a_corner_below_the_centre() {
    let fit = shipped();
    let c = fit.at(70e9, (0.0, 0.0, 0.0));
    let min = fit.smallest_kv_per_token(70e9);
    // Every residual lowered at once: the KV ratio alone is e^(-1.645 x 0.7847 x sqrt(17/16))
    // = 0.264 of the centre.
    assert!(min < 0.3 * c.layers * c.kv_width, "{min}");
    let low = fit.at(70e9, (-0.9, -0.9, -0.9));
    assert!(min <= low.layers * low.kv_width);
}

#[test]
fn too_few_shapes_give_no_fit() {
    let m = Member {
        name: "x".into(),
        active: 1e9,
        layers: 16.0,
        hidden: 2048.0,
        kv_width: 1024.0,
        head_dim: 64.0,
    };
    assert!(ShapeFit::of(vec![m.clone(), m.clone(), m]).is_none());
}
