//! Content negotiation for `/metrics`: which format (`Accept`) and whether gzip
//! (`Accept-Encoding`), honouring quality weights (RFC 9110 section 12.4.2: `q=0` means "not
//! acceptable").

/// The entries of an `Accept` or `Accept-Encoding` header: each lower-cased name (a media range
/// or a coding) with its weight (1 when not given; 0 when the weight is not a number 0..1,
/// so that a garbled entry is never preferred).
fn entries(header: &str) -> impl Iterator<Item = (String, f64)> + '_ {
    header.split(',').filter_map(|entry| {
        let mut parts = entry.split(';');
        let name = parts.next()?.trim().to_ascii_lowercase();
        if name.is_empty() {
            return None;
        }
        let mut q = 1.0;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = v
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))
                        .unwrap_or(0.0);
                }
            }
        }
        Some((name, q))
    })
}

/// Whether to serve OpenMetrics rather than the classic text format. Each format takes the
/// weight of the most specific range that matches it (OpenMetrics:
/// `application/openmetrics-text`, else `application/*`, else `*/*`; text: `text/plain`, else
/// `text/*`, else `*/*`). OpenMetrics is served when its weight is above 0 and above the text
/// format's, or equal to it when the scraper named `application/openmetrics-text` itself.
/// Anything else gets the text format, also when nothing matches or both weigh 0 (no 406:
/// the format every Prometheus-compatible scraper reads, as Prometheus's own client libraries
/// do).
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    // (specificity, weight) of the most specific range that matches each format.
    let mut om: Option<(u8, f64)> = None;
    let mut text: Option<(u8, f64)> = None;
    let take = |slot: &mut Option<(u8, f64)>, specificity: u8, q: f64| match slot {
        Some((s, w)) if *s == specificity => *w = w.max(q),
        Some((s, _)) if *s > specificity => {}
        _ => *slot = Some((specificity, q)),
    };
    for (name, q) in entries(accept) {
        match name.as_str() {
            "application/openmetrics-text" => take(&mut om, 3, q),
            "application/*" => take(&mut om, 2, q),
            "text/plain" => take(&mut text, 3, q),
            "text/*" => take(&mut text, 2, q),
            "*/*" => {
                take(&mut om, 1, q);
                take(&mut text, 1, q);
            }
            _ => {}
        }
    }
    let Some((om_s, om_q)) = om else {
        return false;
    };
    let text_q = text.map_or(0.0, |(_, t)| t);
    om_q > 0.0 && (om_q > text_q || (om_q == text_q && om_s == 3))
}

/// Whether to gzip the body: when `Accept-Encoding` names `gzip` with a weight above 0.
pub fn wants_gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding.is_some_and(|a| entries(a).any(|(name, q)| name == "gzip" && q > 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openmetrics_only_when_named_with_a_weight_above_0_and_not_below_text() {
        let om = |a: &str| wants_openmetrics(Some(a));
        assert!(!wants_openmetrics(None));
        assert!(om("application/openmetrics-text"));
        // Prometheus 2.x's header.
        assert!(om(
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
             version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        ));
        // Hostile #9: refused with q=0, text asked for.
        assert!(!om("text/plain;q=1, application/openmetrics-text;q=0"));
        assert!(!om("application/openmetrics-text; q=0.0"));
        // Text preferred by weight.
        assert!(!om("application/openmetrics-text;q=0.4, text/plain;q=0.5"));
        // The most specific text range counts: text/plain;q=0 beats */*.
        assert!(om(
            "application/openmetrics-text;q=0.2, text/plain;q=0, */*;q=1"
        ));
        assert!(om("application/openmetrics-text;q=0.5, */*;q=0.5"));
        // Nothing matches, a garbled weight, a wildcard only: text.
        assert!(!om("image/png"));
        assert!(!om("application/openmetrics-text;q=abc"));
        assert!(!om("*/*"));
        // Hostile round 5: wildcard subtypes were not ranked. `application/*` now stands for
        // OpenMetrics (served when it outweighs text: alone, it does), `*/*` for both (text on a
        // tie).
        assert!(om("application/*"));
        assert!(om("application/*;q=0.9, text/plain;q=0.5"));
        assert!(!om("application/*;q=0.5, text/*;q=0.9"));
        assert!(om("text/plain;q=0.1, */*;q=0.8"));
        // The most specific OpenMetrics range counts: named with q=0, application/* is moot.
        assert!(!om("application/openmetrics-text;q=0, application/*;q=1"));
        // Nothing acceptable: text (never a 406).
        assert!(!om("*/*;q=0"));
        assert!(!om("application/openmetrics-text;q=0, text/plain;q=0"));
    }

    #[test]
    fn gzip_only_when_named_with_a_weight_above_0() {
        assert!(wants_gzip(Some("gzip")));
        assert!(wants_gzip(Some("deflate, GZIP;q=0.5")));
        assert!(!wants_gzip(Some("gzip;q=0, identity")));
        assert!(!wants_gzip(Some("identity")));
        assert!(!wants_gzip(None));
    }
}
