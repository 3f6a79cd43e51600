//! One self-contained HTML page of a footprint: no external resource and no script (inline CSS
//! and inline SVG), so it opens offline and as an e-mail attachment, and prints (print CSS).
//! Headline figures with their P5..P95 drawn as ranges, the IT energy by component, carbon by
//! source, water on- and off-site, a measured run's power over its marked windows, the
//! explanation steps, every assumption with its source, and the notes.

use super::{fig, how, Document, Meta};
use crate::figure::{Figure, Scale};
use crate::report::unit_for;
use crate::result::Report;
use crate::uncertainty::{fmt_human, Percentiles};
use std::fmt::Write;

const CSS: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;\
color:#222;padding:0 1em}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;\
border-bottom:1px solid #ccc}table{border-collapse:collapse;width:100%}td,th{text-align:left;\
padding:.2em .5em;border-bottom:1px solid #eee;vertical-align:top}td.n{text-align:right;\
white-space:nowrap}.muted{color:#666}svg{display:block}.bar{fill:#2f6f9f}.range{stroke:#2f6f9f;\
stroke-width:3}.mid{fill:#c0392b}.win{fill:#e8a33d}@media print{body{margin:0;max-width:none;\
font-size:11px}h2{break-after:avoid}table,svg{break-inside:avoid}}";

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page.
#[must_use]
pub fn html(doc: &Document, meta: &Meta) -> String {
    let r = &doc.report;
    let mut o = String::with_capacity(16_384);
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>wattlens: {}</title>\
         <style>{CSS}</style></head><body>",
        esc(r.kind.as_str())
    );
    let _ = write!(
        o,
        "<h1>wattlens footprint: {}</h1><p class=\"muted\">{} &middot; {} samples, seed {} \
         &middot; carbon basis: {} &middot; rendered {} by wattlens {}</p>",
        esc(r.kind.as_str()),
        esc(&how(r)),
        r.samples,
        r.seed,
        esc(&format!("{:?}", r.carbon_basis).to_lowercase()),
        esc(&meta.generated_at),
        esc(&meta.wattlens_version)
    );
    if let Some(run) = r.details.run() {
        let p = run.provenance.as_ref();
        let _ = write!(
            o,
            "<p>Run of <code>{}</code> on {} from {}: {} s, exit code {}, charged to {}.</p>",
            esc(p.and_then(|p| p.command.as_deref()).unwrap_or("?")),
            esc(p
                .and_then(|p| p.host.as_deref())
                .unwrap_or("an unnamed host")),
            esc(p
                .and_then(|p| p.started_at.as_deref())
                .unwrap_or("an unknown time")),
            fmt_human(run.duration_s),
            run.exit_code
                .map_or_else(|| "none".into(), |c| c.to_string()),
            esc(&run.attribution.policy)
        );
    }
    headline(&mut o, r);
    let comps: Vec<(String, f64)> = r
        .components
        .iter()
        .map(|c| {
            (
                format!("{} ({})", c.name, c.method.as_str()),
                fig(r, c.key).p50,
            )
        })
        .collect();
    bars(
        &mut o,
        "IT energy by component (P50)",
        Scale::Energy,
        &comps,
    );
    let carbon: Vec<(String, f64)> = [
        Figure::OperationalCarbon,
        Figure::MarketCarbon,
        Figure::EmbodiedCarbon,
    ]
    .iter()
    .filter_map(|f| r.get(*f).map(|p| (f.label().trim().to_string(), p.p50)))
    .collect();
    bars(&mut o, "Carbon by source (P50)", Scale::Mass, &carbon);
    let water: Vec<(String, f64)> = [Figure::OnsiteWater, Figure::OffsiteWater]
        .iter()
        .filter_map(|f| r.get(*f).map(|p| (f.label().trim().to_string(), p.p50)))
        .collect();
    bars(&mut o, "Water consumed (P50)", Scale::Water, &water);
    if r.details.run().is_some() {
        power(&mut o, doc);
    }
    lists(&mut o, r);
    o.push_str("</body></html>\n");
    o
}

/// The headline table: P50 and the P5..P95 range drawn to a common scale per row.
fn headline(o: &mut String, r: &Report) {
    o.push_str("<h2>Headline figures</h2><table><tr><th>figure</th><th>P50</th><th>P5 .. P95</th><th>range</th></tr>");
    for f in Figure::table() {
        let Some(p) = r.get(f) else { continue };
        if p.p95 == 0.0 && p.p5 == 0.0 {
            continue;
        }
        let cur = if f == Figure::Cost {
            r.currency.as_str()
        } else {
            ""
        };
        let (k, unit) = unit_for(f.scale(), p.p50, cur);
        let _ = write!(
            o,
            "<tr data-key=\"{}\" data-p5=\"{}\" data-p50=\"{}\" data-p95=\"{}\"><td>{}</td>\
             <td class=\"n\">{} {}</td><td class=\"n\">{} .. {}</td><td>{}</td></tr>",
            f.key(),
            p.p5,
            p.p50,
            p.p95,
            esc(f.label().trim()),
            fmt_human(p.p50 * k),
            esc(&unit),
            fmt_human(p.p5 * k),
            fmt_human(p.p95 * k),
            range_svg(p)
        );
    }
    o.push_str("</table>");
}

/// A 200 x 16 range: a line from P5 to P95 on a scale from 0 to P95, a dot at P50.
fn range_svg(p: Percentiles) -> String {
    let top = p.p95.abs().max(p.p5.abs()).max(f64::MIN_POSITIVE);
    let x = |v: f64| 4.0 + 192.0 * (v / top).clamp(0.0, 1.0);
    format!(
        "<svg width=\"200\" height=\"16\" role=\"img\" aria-label=\"P5 to P95\"><line class=\"range\" \
         x1=\"{:.1}\" y1=\"8\" x2=\"{:.1}\" y2=\"8\"/><circle class=\"mid\" cx=\"{:.1}\" cy=\"8\" r=\"4\"/></svg>",
        x(p.p5),
        x(p.p95),
        x(p.p50)
    )
}

/// A horizontal bar chart of labelled values in one unit.
fn bars(o: &mut String, title: &str, scale: Scale, rows: &[(String, f64)]) {
    if rows.is_empty() {
        return;
    }
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max);
    let (k, unit) = unit_for(scale, max, "");
    let h = 22 * rows.len() + 4;
    let _ = write!(
        o,
        "<h2>{}</h2><svg class=\"chart\" width=\"640\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        esc(title)
    );
    for (i, (label, v)) in rows.iter().enumerate() {
        let w = if max > 0.0 { 300.0 * v / max } else { 0.0 };
        let y = 22 * i + 2;
        let _ = write!(
            o,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect class=\"bar\" x=\"230\" y=\"{y}\" \
             width=\"{w:.1}\" height=\"16\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{} {}</text>",
            y + 13,
            esc(label),
            236.0 + w,
            y + 13,
            fmt_human(v * k),
            esc(&unit)
        );
    }
    o.push_str("</svg>");
}

/// A measured run's IT power over time, on one basis throughout: the IT energy of the headline
/// (the measured CPU, memory and accelerators plus the modelled rest of the server), as the
/// window lines have it. The run's `profile` bins as bars: a bin holds measured energy only, so
/// its mean power (energy / duration: 0.5 kWh over 1800 s = 0.5 x 3.6e6 J / 1800 s = 1000 W) is
/// scaled by the run's IT energy over its measured energy (the bins' sum); a hostile test saw
/// bars without the rest of the server under window lines with it. Without a profile, one bar
/// of the mean over the whole run. Each marked window is a shaded span with a line at its own
/// mean IT power.
fn power(o: &mut String, doc: &Document) {
    let r = &doc.report;
    let Some(run) = r.details.run() else { return };
    let watts = |kwh: f64, s: f64| kwh * 3.6e6 / s.max(f64::MIN_POSITIVE);
    let it_kwh = fig(r, Figure::ItEnergy).p50;
    let measured_kwh: f64 = run.profile.iter().map(|b| b.energy_kwh).sum();
    let to_it = if measured_kwh > 0.0 && it_kwh.is_finite() && it_kwh > 0.0 {
        it_kwh / measured_kwh
    } else {
        1.0
    };
    let bins: Vec<(f64, f64, f64)> = run
        .profile
        .iter()
        .filter(|b| b.end_s > b.start_s)
        .map(|b| {
            let w = watts(b.energy_kwh, b.end_s - b.start_s) * to_it;
            (b.start_s, b.end_s, w)
        })
        .collect();
    let dur = bins
        .iter()
        .map(|b| b.1)
        .fold(run.duration_s, f64::max)
        .max(f64::MIN_POSITIVE);
    let mean_w = watts(fig(r, Figure::ItEnergy).p50, run.duration_s);
    let bars: Vec<(f64, f64, f64)> = if bins.is_empty() {
        vec![(0.0, dur, mean_w)]
    } else {
        bins.clone()
    };
    let win: Vec<(f64, f64, f64, &str)> = doc
        .windows
        .iter()
        .map(|w| {
            (
                w.start_s,
                w.end_s,
                watts(w.it_energy_kwh.p50, w.duration_s),
                w.name.as_str(),
            )
        })
        .collect();
    let most = win
        .iter()
        .map(|w| w.2)
        .chain(bars.iter().map(|b| b.2))
        .fold(0.0, f64::max);
    // A run that drew nothing gets a 1 W axis (the smallest positive f64 printed as its top).
    let top = if most > 0.0 { most * 1.1 } else { 1.0 };
    let (x0, w, h) = (50.0, 580.0, 160.0);
    let x = |t: f64| x0 + w * (t / dur).clamp(0.0, 1.0);
    let y = |p: f64| 10.0 + h * (1.0 - (p / top).clamp(0.0, 1.0));
    let _ = write!(
        o,
        "<h2>IT power over the run (P50)</h2><svg class=\"chart\" width=\"640\" height=\"200\" \
         role=\"img\" aria-label=\"power over time\"><g class=\"profile\" data-bins=\"{}\">",
        bins.len()
    );
    for (a, b, p) in &bars {
        let _ = write!(
            o,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" \
             opacity=\"0.45\"><title>{} s .. {} s: {} W</title></rect>",
            x(*a),
            y(*p),
            (x(*b) - x(*a)).max(1.0),
            10.0 + h - y(*p),
            fmt_human(*a),
            fmt_human(*b),
            fmt_human(*p)
        );
    }
    o.push_str("</g>");
    for (a, b, p, name) in &win {
        let _ = write!(
            o,
            "<g class=\"window\"><rect class=\"win\" x=\"{:.1}\" y=\"10\" width=\"{:.1}\" \
             height=\"{h}\" opacity=\"0.15\"/><line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" \
             y2=\"{:.1}\" stroke=\"#e8a33d\" stroke-width=\"4\"><title>{}: {} W</title></line>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text></g>",
            x(*a),
            (x(*b) - x(*a)).max(1.0),
            x(*a),
            y(*p),
            x(*b),
            y(*p),
            esc(name),
            fmt_human(*p),
            x(*a) + 2.0,
            (y(*p) - 5.0).max(9.0),
            esc(name)
        );
    }
    let what = if bins.is_empty() {
        format!(
            "IT power (the measured CPU, memory and accelerators and the modelled rest of the \
             server), the basis of the headline's IT energy. Blue: mean over the run ({} W; this \
             footprint has no power profile)",
            fmt_human(mean_w)
        )
    } else {
        format!(
            "IT power (the measured CPU, memory and accelerators and the modelled rest of the \
             server), the basis of the headline's IT energy. Blue: mean in each of the {} bins \
             of the run's profile (measured energy / duration, x {} for the rest of the server: \
             IT energy P50 over measured energy); mean over the run {} W",
            bins.len(),
            fmt_human(to_it),
            fmt_human(mean_w)
        )
    };
    let _ = write!(
        o,
        "<line x1=\"{x0}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#333\"/><text x=\"0\" \
         y=\"20\" font-size=\"11\">{} W</text><text x=\"0\" y=\"{:.1}\" font-size=\"11\">0</text>\
         <text x=\"{:.1}\" y=\"195\" font-size=\"11\">{} s</text></svg><p class=\"muted\">{}{}.</p>",
        10.0 + h,
        x0 + w,
        10.0 + h,
        fmt_human(top),
        10.0 + h,
        x0 + w - 40.0,
        fmt_human(dur),
        what,
        if win.is_empty() {
            ""
        } else {
            "; orange: each marked window, the line at its mean IT power on the same basis"
        }
    );
}

/// Steps, assumptions, equivalents' and published sources, and notes.
fn lists(o: &mut String, r: &Report) {
    if !r.steps.is_empty() {
        o.push_str("<h2>How it was computed</h2><table><tr><th>step</th><th>formula</th><th>value</th><th>source</th></tr>");
        for s in &r.steps {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{} {}</td><td>{}</td></tr>",
                esc(&s.name),
                esc(&s.formula),
                fmt_human(s.value),
                esc(&s.unit),
                esc(s.source.as_deref().unwrap_or(""))
            );
        }
        o.push_str("</table>");
    }
    o.push_str("<h2>Assumptions and sources</h2><table><tr><th>input</th><th>value</th><th>origin</th><th>source</th></tr>");
    for a in &r.assumptions {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.name),
            esc(&a.value),
            esc(&format!("{:?}", a.origin).to_lowercase()),
            esc(a.source.as_deref().unwrap_or(""))
        );
    }
    for q in &r.equivalents {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{} {}</td><td>equivalent</td><td>{}</td></tr>",
            esc(&q.description),
            fmt_human(fig(r, q.figure).p50),
            esc(q.unit),
            esc(&q.source)
        );
    }
    for p in &r.published {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{} {}</td><td>published</td><td>{}</td></tr>",
            esc(&p.name),
            fmt_human(p.value),
            esc(&p.unit),
            esc(&p.source)
        );
    }
    o.push_str("</table>");
    if !r.notes.is_empty() {
        o.push_str("<h2>Notes</h2><ul>");
        for n in &r.notes {
            let _ = write!(o, "<li>{}</li>", esc(n));
        }
        o.push_str("</ul>");
    }
}

#[cfg(test)]
mod tests {
    use super::super::{html, Activity, Document, Meta};

    #[test]
    fn power_bars_and_window_lines_share_the_it_basis() {
        // Measured 0.5 + 1.5 = 2 kWh in the profile; the IT energy P50 is 2.76 kWh (a rest of
        // the server of 38%), so each bar is scaled by 2.76 / 2 = 1.38: 0.5 kWh over 1800 s =
        // 1000 W measured -> 1,380 W; 1.5 kWh -> 3000 W -> 4,140 W. The window over the second
        // bin holds its IT energy 1.5 x 1.38 = 2.07 kWh over 1800 s = 4,140 W: the line sits on
        // the bar (they disagreed: 3,000 W bar under a 4,140 W line).
        let json = r#"{"schema":"wattlens.footprint/v1","kind":"run","method":"measured",
            "duration_s":3600,"it_energy_kwh":{"p5":2.5,"p50":2.76,"p95":3.0},
            "profile":[{"start_s":0,"end_s":1800,"energy_kwh":0.5},
                       {"start_s":1800,"end_s":3600,"energy_kwh":1.5}],
            "windows":[{"name":"train","start_s":1800,"end_s":3600,"duration_s":1800,
            "closed_by_run_end":false,"it_energy_kwh":{"p5":2,"p50":2.07,"p95":2.2},
            "facility_energy_kwh":{"p5":1,"p50":1,"p95":1},"carbon_kgco2e":{"p5":1,"p50":1,"p95":1},
            "operational_carbon_kgco2e":{"p5":1,"p50":1,"p95":1},
            "embodied_carbon_kgco2e":{"p5":0,"p50":0,"p95":0},"water_l":{"p5":1,"p50":1,"p95":1},
            "cost":{"p5":1,"p50":1,"p95":1}}]}"#;
        let meta = Meta {
            generated_at: "2024-01-01T00:00:00Z".into(),
            wattlens_version: "0".into(),
            activity: Activity::Training,
        };
        let page = html(&Document::from_json(json).expect("reads"), &meta);
        assert!(
            page.contains("<title>0 s .. 1,800 s: 1,380 W</title>"),
            "{page}"
        );
        assert!(
            page.contains("<title>1,800 s .. 3,600 s: 4,140 W</title>"),
            "{page}"
        );
        assert!(page.contains("<title>train: 4,140 W</title>"), "{page}");
        // The basis is said: the scale factor and that the rest of the server is in.
        assert!(page.contains("x 1.38 for the rest of the server"), "{page}");
        assert!(page.contains("mean IT power on the same basis"), "{page}");
    }

    #[test]
    fn a_run_that_drew_nothing_gets_a_readable_axis() {
        let json = r#"{"schema":"wattlens.footprint/v1","kind":"run","method":"measured",
            "duration_s":1,"it_energy_kwh":{"p5":0,"p50":0,"p95":0},
            "profile":[{"start_s":0,"end_s":1,"energy_kwh":0}]}"#;
        let meta = Meta {
            generated_at: "t".into(),
            wattlens_version: "0".into(),
            activity: Activity::Training,
        };
        let page = html(&Document::from_json(json).expect("reads"), &meta);
        assert!(page.contains("IT power over the run"), "{page}");
        assert!(!page.contains("e-30"), "{page}");
        assert!(page.contains(">1 W</text>"), "{page}");
    }
}
