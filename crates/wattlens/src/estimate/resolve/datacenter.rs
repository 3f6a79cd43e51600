//! Resolving `estimate datacenter`: IT load, facility breakdown and rack cooling.
use super::fleet::split_for;
use super::{
    conflict, fallback_notes, hardware, hardware_embodied, load, positive, user, HardwareInputs,
    Resolved,
};
use crate::catalog::{Catalog, Row};
use crate::estimate::datacenter::{Breakdown, DatacenterSpec};
use crate::estimate::site::{resolve as resolve_site, Derived, SiteInputs};
use crate::estimate::EstimateError;
use crate::explain::{Assumption, Origin};
use crate::field::{Field, Msg};
use crate::result::{self, Cooling, Details};
use crate::uncertainty::{fmt_input, Range};

/// `estimate datacenter` inputs.
#[derive(Clone, Debug, Default)]
pub struct DatacenterInputs {
    /// `it_power`, W.
    pub it_power: Option<Range>,
    /// `servers` (with `server`/`server_power`) as an alternative to `it_power`.
    pub servers: Option<Range>,
    /// `hours` / `days` (default a year).
    pub hours: Option<Range>,
    /// `breakdown`: the facility's energy split, from which the PUE follows.
    pub breakdown: Option<Breakdown>,
    /// `rack_power`, W.
    pub rack_power: Option<Range>,
    /// `servers_per_rack`.
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
    check(dc, s)?;
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut extra = result::DatacenterDetails::default();
    let hw = hardware(cat, &dc.hw, None, &mut out)?;
    let server_power = positive(Field::ServerPower, dc.hw.server_power)?;
    let server_w = server_power.or(hw
        .server
        .and_then(|s| s.max_power_kw)
        .map(|k| Range::point(k * 1000.0)));
    let hours = period(dc, &mut out, &mut notes)?;
    let (it_power, servers) = it_load(cat, dc, server_w, &mut out)?;
    let accelerators = if hw.accel.is_some() {
        Range::new(servers.lo * hw.per_server.lo, servers.hi * hw.per_server.hi)
    } else {
        Range::point(0.0)
    };
    let mut site_in = s.clone();
    let overhead = if let Some(b) = &dc.breakdown {
        let pue = b.pue();
        site_in.derived_pue = Some(Derived {
            range: Range::point(pue),
            how: Msg::new("1 / IT share of {breakdown}"),
        });
        out.push(breakdown_given(b));
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
    hardware_embodied(&mut site, &hw, &mut out);
    let split = split_for(
        cat,
        &hw,
        server_power.map(|r| r.mid()),
        &mut out,
        &mut notes,
    )?;

    // Rack density and the cooling it needs.
    let rack_w = rack_power(dc, server_w)?;
    if let Some(w) = rack_w {
        let (kw, suitable) = cooling_for(cat, s, w, &mut notes)?;
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

/// The inputs against their limits, and the pairs that contradict each other.
fn check(dc: &DatacenterInputs, s: &SiteInputs) -> Result<(), EstimateError> {
    crate::limits::check_all(&[
        (Field::ItPower, dc.it_power),
        (Field::Servers, dc.servers),
        (Field::Period, dc.hours),
        (Field::RackPower, dc.rack_power),
        (Field::ServersPerRack, dc.servers_per_rack),
    ])?;
    super::check_hardware(&dc.hw)?;
    conflict(
        (Field::Breakdown, dc.breakdown.is_some()),
        (Field::Pue, s.pue.is_some()),
        "the breakdown defines the PUE (1 / IT share); give one",
    )?;
    conflict(
        (Field::ItPower, dc.it_power.is_some()),
        (Field::Servers, dc.servers.is_some()),
        "give the IT power or the servers that make it up",
    )?;
    conflict(
        (Field::RackPower, dc.rack_power.is_some()),
        (Field::ServersPerRack, dc.servers_per_rack.is_some()),
        "give the rack power or the servers per rack",
    )
}

/// The period, hours: given, or a year.
fn period(
    dc: &DatacenterInputs,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<Range, EstimateError> {
    Ok(match positive(Field::Period, dc.hours)? {
        Some(h) => {
            user(out, "period", &h, "h", Field::Period);
            h
        }
        None => {
            out.push(Assumption {
                name: "period".into(),
                value: "8760 h".into(),
                origin: Origin::Default,
                source: Some("one year when neither {hours} nor {days} is given".into()),
                field: None,
            });
            notes.push("no {hours} or {days}: the period is one year (8,760 h); give {hours} or {days} for another".into());
            Range::point(8760.0)
        }
    })
}

/// The average IT load, W, and the servers that draw it: given, or the servers at the load.
fn it_load(
    cat: &Catalog,
    dc: &DatacenterInputs,
    server_w: Option<Range>,
    out: &mut Vec<Assumption>,
) -> Result<(Range, Range), EstimateError> {
    Ok(if let Some(p) = positive(Field::ItPower, dc.it_power)? {
        user(out, "it_power", &p, "W", Field::ItPower);
        (
            p,
            server_w.map_or(Range::point(0.0), |w| Range::new(p.lo / w.hi, p.hi / w.lo)),
        )
    } else if let Some(n) = positive(Field::Servers, dc.servers)? {
        let w = server_w.ok_or_else(|| {
            EstimateError::Missing("{server} or {server_power}: the power of one server".into())
        })?;
        let l = load(cat, &dc.hw, "fleet.load", out)?;
        user(out, "servers", &n, "", Field::Servers);
        (Range::new(n.lo * w.lo * l.lo, n.hi * w.hi * l.hi), n)
    } else {
        return Err(EstimateError::Missing(
            "{it_power}: the average IT load (e.g. {it_power} 20MW), or {servers} with {server}"
                .into(),
        ));
    })
}

/// The breakdown as the user gave it.
fn breakdown_given(b: &Breakdown) -> Assumption {
    Assumption {
        name: "breakdown".into(),
        value: format!(
            "it={} cooling={} power={} other={}",
            fmt_input(b.it),
            fmt_input(b.cooling),
            fmt_input(b.power),
            fmt_input(b.other)
        ),
        origin: Origin::User,
        source: None,
        field: Some(Field::Breakdown),
    }
}

/// The power of one rack, W: given, or its servers at their power.
fn rack_power(
    dc: &DatacenterInputs,
    server_w: Option<Range>,
) -> Result<Option<f64>, EstimateError> {
    Ok(
        if let Some(r) = positive(Field::RackPower, dc.rack_power)? {
            Some(r.mid())
        } else if let Some(n) = positive(Field::ServersPerRack, dc.servers_per_rack)? {
            let w = server_w.ok_or_else(|| {
                EstimateError::Missing(
                    "{server} or {server_power}: needed with {servers_per_rack}".into(),
                )
            })?;
            Some(n.mid() * w.mid())
        } else {
            None
        },
    )
}

/// The cooling types that handle a rack of `w` watts, densest last: (kW per rack, [(name, max
/// kW per rack)]); a note when the chosen cooling does not handle it.
fn cooling_for(
    cat: &Catalog,
    s: &SiteInputs,
    w: f64,
    notes: &mut Vec<String>,
) -> Result<(f64, Vec<(String, f64)>), EstimateError> {
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
    Ok((kw, suitable))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_breakdown(it: f64, s: &SiteInputs) -> Result<Resolved<DatacenterSpec>, EstimateError> {
        let dc = DatacenterInputs {
            it_power: Some(Range::point(1e6)),
            breakdown: Some(Breakdown {
                it,
                cooling: 1.0 - it,
                power: 0.0,
                other: 0.0,
            }),
            ..DatacenterInputs::default()
        };
        datacenter(&Catalog::embedded(), &dc, s)
    }

    #[test]
    fn a_breakdowns_pue_is_derived_never_given() {
        // IT share 0.5: PUE = 1 / 0.5 = 2.
        let r = with_breakdown(0.5, &SiteInputs::default()).expect("resolves");
        let pue: Vec<_> = r.assumptions.iter().filter(|a| a.name == "pue").collect();
        assert_eq!(pue.len(), 1);
        assert_eq!(pue[0].origin, Origin::Derived);
        assert_eq!(pue[0].field, None);
        assert_eq!(pue[0].value, "2");
        assert_eq!(
            pue[0].source.as_deref(),
            Some("1 / IT share of {breakdown}")
        );
        assert_eq!(r.spec.site.pue.range, Range::point(2.0));
        assert!(!r.assumptions.iter().any(|a| a.field == Some(Field::Pue)));
    }

    #[test]
    fn a_breakdown_and_a_pue_conflict_by_field() {
        let s = SiteInputs {
            pue: Some(Range::point(1.2)),
            ..SiteInputs::default()
        };
        let e = with_breakdown(0.5, &s).err().expect("refused");
        assert!(matches!(
            e,
            EstimateError::Conflict {
                a: Field::Breakdown,
                b: Field::Pue,
                ..
            }
        ));
    }
}
