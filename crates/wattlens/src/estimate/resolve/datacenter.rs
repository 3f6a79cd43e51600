//! Resolving `estimate datacenter`: IT load, facility breakdown and rack cooling.
use super::fleet::split_for;
use super::{
    conflict, fallback_notes, hardware, hardware_embodied, load, positive, user, HardwareInputs,
    Resolved,
};
use crate::catalog::{Catalog, Row};
use crate::estimate::datacenter::{Breakdown, DatacenterSpec};
use crate::estimate::site::{resolve as resolve_site, SiteInputs};
use crate::estimate::EstimateError;
use crate::explain::{Assumption, Origin};
use crate::footprint::Param;
use crate::result::{self, Cooling, Details};
use crate::uncertainty::{fmt_input, Range};

/// `estimate datacenter` inputs.
#[derive(Clone, Debug, Default)]
pub struct DatacenterInputs {
    /// `--it-power`, W.
    pub it_power: Option<Range>,
    /// `--servers` (with `--server`/`--server-power`) as an alternative to `--it-power`.
    pub servers: Option<Range>,
    /// `--hours` / `--days` (default a year).
    pub hours: Option<Range>,
    /// `--breakdown`.
    pub breakdown: Option<String>,
    /// `--rack-power`, W.
    pub rack_power: Option<Range>,
    /// `--servers-per-rack`.
    pub servers_per_rack: Option<Range>,
    /// Hardware.
    pub hw: HardwareInputs,
}

/// Resolves `estimate datacenter`.
///
/// # Errors
/// Unknown names, out-of-domain values, contradictions and missing inputs, each naming flags.
#[allow(clippy::too_many_lines)]
pub fn datacenter(
    cat: &Catalog,
    dc: &DatacenterInputs,
    s: &SiteInputs,
) -> Result<Resolved<DatacenterSpec>, EstimateError> {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut extra = result::DatacenterDetails::default();
    conflict(
        ("--breakdown", dc.breakdown.is_some()),
        ("--pue", s.pue.is_some()),
        "the breakdown defines the PUE (1 / IT share); give one",
    )?;
    conflict(
        ("--it-power", dc.it_power.is_some()),
        ("--servers", dc.servers.is_some()),
        "give the IT power or the servers that make it up",
    )?;
    conflict(
        ("--rack-power", dc.rack_power.is_some()),
        ("--servers-per-rack", dc.servers_per_rack.is_some()),
        "give the rack power or the servers per rack",
    )?;
    let hw = hardware(cat, &dc.hw, None, &mut out)?;
    let server_power = positive("--server-power", dc.hw.server_power)?;
    let server_w = server_power.or(hw
        .server
        .and_then(|s| s.max_power_kw)
        .map(|k| Range::point(k * 1000.0)));

    let hours = match positive("--hours/--days", dc.hours)? {
        Some(h) => {
            user(&mut out, "period", &h, "h", "--hours/--days");
            h
        }
        None => {
            out.push(Assumption {
                name: "period".into(),
                value: "8760 h".into(),
                origin: Origin::Default,
                source: Some("one year when neither --hours nor --days is given".into()),
            });
            notes.push("no --hours or --days: the period is one year (8,760 h); give --hours or --days for another".into());
            Range::point(8760.0)
        }
    };
    let (it_power, servers) = if let Some(p) = positive("--it-power", dc.it_power)? {
        user(&mut out, "it_power", &p, "W", "--it-power");
        (
            p,
            server_w.map_or(Range::point(0.0), |w| Range::new(p.lo / w.hi, p.hi / w.lo)),
        )
    } else if let Some(n) = positive("--servers", dc.servers)? {
        let w = server_w.ok_or_else(|| {
            EstimateError::Missing("--server or --server-power: the power of one server".into())
        })?;
        let l = load(cat, &dc.hw, "fleet.load", &mut out)?;
        user(&mut out, "servers", &n, "", "--servers");
        (Range::new(n.lo * w.lo * l.lo, n.hi * w.hi * l.hi), n)
    } else {
        return Err(EstimateError::Missing(
            "--it-power: the average IT load (e.g. --it-power 20MW), or --servers with --server"
                .into(),
        ));
    };
    let accelerators = if hw.accel.is_some() {
        Range::new(servers.lo * hw.per_server.lo, servers.hi * hw.per_server.hi)
    } else {
        Range::point(0.0)
    };

    let mut site_in = s.clone();
    let overhead = if let Some(b) = &dc.breakdown {
        let b = Breakdown::parse(b)?;
        let pue = b.pue();
        site_in.pue = Some(Range::point(pue));
        out.push(Assumption {
            name: "breakdown".into(),
            value: format!(
                "it={} cooling={} power={} other={}",
                fmt_input(b.it),
                fmt_input(b.cooling),
                fmt_input(b.power),
                fmt_input(b.other)
            ),
            origin: Origin::User,
            source: Some("--breakdown".into()),
        });
        extra.pue_from_breakdown = Some(pue);
        (b.cooling, b.power, b.other)
    } else {
        let c = cat
            .coefficient("datacenter.overhead_cooling")?
            .range()
            .mid();
        let p = cat.coefficient("datacenter.overhead_power")?.range().mid();
        (c, p, (1.0 - c - p).max(0.0))
    };
    let resolved = resolve_site(cat, &site_in, &mut out)?;
    fallback_notes(s, &out, &mut notes);
    let mut site = resolved.site;
    if dc.breakdown.is_some() {
        site.pue = Param::new(site.pue.range, "1 / IT share of --breakdown");
        // The site resolver saw the breakdown's PUE as if given: it was derived, not --pue.
        if let Some(a) = out.iter_mut().find(|a| a.name == "pue") {
            a.origin = Origin::Derived;
            a.source = Some("1 / IT share of --breakdown".into());
        }
    }
    hardware_embodied(&mut site, &hw, &mut out);
    let split = split_for(
        cat,
        &hw,
        server_power.map(|r| r.mid()),
        &mut out,
        &mut notes,
    )?;

    // Rack density and the cooling it needs.
    let rack_w = if let Some(r) = positive("--rack-power", dc.rack_power)? {
        Some(r.mid())
    } else if let Some(n) = positive("--servers-per-rack", dc.servers_per_rack)? {
        let w = server_w.ok_or_else(|| {
            EstimateError::Missing(
                "--server or --server-power: needed with --servers-per-rack".into(),
            )
        })?;
        Some(n.mid() * w.mid())
    } else {
        None
    };
    if let Some(w) = rack_w {
        let kw = w / 1000.0;
        let dcs = cat.datacenters()?;
        let mut suitable: Vec<(String, f64)> = dcs
            .rows()?
            .into_iter()
            .filter(|d| d.kind.as_deref() == Some("cooling"))
            .filter_map(|d| {
                d.max_rack_kw
                    .filter(|m| *m >= kw)
                    .map(|m| (d.name.clone(), m))
            })
            .collect();
        suitable.sort_by(|a, b| a.1.total_cmp(&b.1));
        if let Some(c) = &s.cooling {
            let row = dcs.get(c)?;
            if let Some(m) = row.max_rack_kw {
                if m < kw {
                    notes.push(format!(
                        "{} kW per rack exceeds what {} handles (up to {} kW, {}); consider {}",
                        fmt_input(kw),
                        row.name,
                        fmt_input(m),
                        row.cite(),
                        suitable
                            .first()
                            .map_or("a denser cooling type".to_string(), |s| s.0.clone())
                    ));
                }
            }
        }
        extra.rack = Some(result::Rack {
            power_kw: kw,
            suitable_cooling: suitable
                .into_iter()
                .map(|(name, max_rack_kw)| Cooling { name, max_rack_kw })
                .collect(),
        });
    }
    let spec = DatacenterSpec {
        it_power,
        hours,
        split,
        overhead,
        servers,
        accelerators,
        site,
    };
    Ok(Resolved {
        spec,
        assumptions: out,
        published: Vec::new(),
        details: Details::Datacenter(extra),
        notes,
    })
}
