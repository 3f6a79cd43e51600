//! The agent's `/` page: current power of the node and of its busiest workloads, refreshing
//! itself every few seconds; plain HTML, no script, no external assets. Every text from the
//! node (workload paths, command names, notes) is escaped.

use super::metrics::Snapshot;
use std::fmt::Write as _;

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The page for a snapshot; refreshes every `refresh_s` seconds.
#[must_use]
pub fn render(s: &Snapshot, refresh_s: u64) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{refresh_s}\">\
         <title>wattlens agent</title><style>body{{font-family:sans-serif;margin:2em}}\
         td,th{{padding:2px 10px;text-align:left}}td.n{{text-align:right}}</style></head><body>\
         <h1>wattlens agent</h1><p>Node power over the last interval: <b>{:.1} W</b> \
         (<a href=\"/metrics\">/metrics</a>, <a href=\"/healthz\">/healthz</a>)</p>\
         <table><tr><th>workload</th><th>command</th><th>power (W)</th></tr>",
        s.node_power_w
    );
    for (w, c, p) in &s.top {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{p:.2}</td></tr>",
            esc(w),
            esc(c)
        );
    }
    o.push_str("</table>");
    if !s.notes.is_empty() {
        o.push_str("<h2>Notes</h2><ul>");
        for n in &s.notes {
            let _ = write!(o, "<li>{}</li>", esc(n));
        }
        o.push_str("</ul>");
    }
    o.push_str("</body></html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_names_are_escaped() {
        let mut s = Snapshot::default();
        s.top = vec![("a<b>".into(), "x&y".into(), 12.5)];
        s.node_power_w = 40.0;
        let p = render(&s, 5);
        assert!(p.contains("a&lt;b&gt;") && p.contains("x&amp;y") && p.contains("12.50"));
        assert!(!p.contains("<b>a"));
        assert!(p.contains("refresh\" content=\"5\""));
    }
}
