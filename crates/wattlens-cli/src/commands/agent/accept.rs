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

/// Whether to serve OpenMetrics rather than the classic text format: only when the scraper
/// names `application/openmetrics-text` with a weight above 0 and at least the weight it gives
/// the text format (`text/plain`, else `text/*`, else `*/*`: the most specific range that
/// matches). Anything else gets the text format, also when nothing matches (the format every
/// Prometheus-compatible scraper reads).
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    let mut om: Option<f64> = None;
    // (specificity, weight) of the most specific range that matches text/plain.
    let mut text: Option<(u8, f64)> = None;
    for (name, q) in entries(accept) {
        let specificity = match name.as_str() {
            "application/openmetrics-text" => {
                om = Some(om.map_or(q, |o: f64| o.max(q)));
                continue;
            }
            "text/plain" => 3,
            "text/*" => 2,
            "*/*" => 1,
            _ => continue,
        };
        if text.is_none_or(|(s, _)| specificity > s) {
            text = Some((specificity, q));
        }
    }
    om.is_some_and(|o| o > 0.0 && o >= text.map_or(0.0, |(_, t)| t))
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
        assert!(!om("application/*"));
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
