//! Resolving `estimate fleet`: servers, IT power or energy over a period.
use super::{
    catalog_value, conflict, fallback_notes, hardware, hardware_embodied, load, positive,
    server_host, shares, user, Hardware, HardwareInputs, Resolved,
};
use crate::catalog::{Catalog, Row};
use crate::estimate::fleet::{FleetSpec, Load};
use crate::estimate::power::Split;
use crate::estimate::site::{coefficient, resolve as resolve_site, SiteInputs};
use crate::estimate::EstimateError;
use crate::explain::{Assumption, Origin};
use crate::field::Field;
use crate::result::Details;
use crate::uncertainty::Range;

/// `estimate fleet` inputs.
#[derive(Clone, Debug, Default)]
pub struct FleetInputs {
    /// `servers`.
    pub servers: Option<Range>,
    /// `hours` or `days` (in hours).
    pub hours: Option<Range>,
    /// `it_power`, W.
    pub it_power: Option<Range>,
    /// `energy`, kWh over the period.
    pub energy: Option<Range>,
    /// Hardware.
    pub hw: HardwareInputs,
}

pub(super) fn split_for(
    cat: &Catalog,
    hw: &Hardware<'_>,
    server_w: Option<f64>,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<Split, EstimateError> {
    if let (Some(s), Some(a)) = (hw.server, hw.accel) {
        if let (Some(w), Some(b)) = (
            server_w.or(s.max_power_kw.map(|k| k * 1000.0)),
            a.board_power_w,
        ) {
            let accel_w = hw.per_server.mid() * b;
            let h =
                server_host(cat, Some(s), Some(accel_w), out, notes)?.unwrap_or(Range::point(0.0));
            return server_split(w, accel_w, h);
        }
    }
    if hw.accel.is_none() && hw.per_server.hi == 0.0 {
        // No accelerator named anywhere: a CPU-only server, with no accelerator component.
        if let Some(s) = hw.server {
            if let Some(w) = server_w.or(s.max_power_kw.map(|k| k * 1000.0)) {
                if let Some(h) = server_host(cat, Some(s), None, out, notes)? {
                    return server_split(w, 0.0, h);
                }
            }
        }
        let r = coefficient(cat, "rest.share", "rest_share", 1.0, out)?.range;
        return Ok(Split::HostOnly { rest_share: r });
    }
    let (h, r) = shares(cat, out)?;
    Ok(Split::Shares {
        host_share: h,
        rest_share: r,
    })
}

/// A server's power split, or an error naming the flags when the power cannot be split.
fn server_split(w: f64, accel_w: f64, host_w: Range) -> Result<Split, EstimateError> {
    Split::of_server_host(w, accel_w, host_w).ok_or_else(|| EstimateError::InvalidPair {
        a: Field::Server,
        b: Field::ServerPower,
        message: format!(
            "a server of {w} W cannot hold {accel_w} W of accelerators and {} W of host: give a server power above zero ({{server_power}}) or fix the catalog row",
            host_w.display("")
        ).into(),
    })
}

/// Resolves `estimate fleet`.
///
/// # Errors
/// Unknown names, out-of-domain values, contradictions and missing inputs, each naming flags.
pub fn fleet(
    cat: &Catalog,
    f: &FleetInputs,
    s: &SiteInputs,
) -> Result<Resolved<FleetSpec>, EstimateError> {
    check(f)?;
    let mut out = Vec::new();
    let hours = period(f, &mut out)?;
    let hw = hardware(cat, &f.hw, None, &mut out)?;
    let server_power = positive(Field::ServerPower, f.hw.server_power)?;
    let load_spec = if let Some(n) = positive(Field::Servers, f.servers)? {
        servers_load(cat, f, &hw, n, server_power, &mut out)?
    } else if let Some(p) = positive(Field::ItPower, f.it_power)? {
        user(&mut out, "it_power", &p, "W", Field::ItPower);
        Load::ItPower(p)
    } else if let Some(e) = positive(Field::Energy, f.energy)? {
        user(&mut out, "it_energy", &e, "kWh", Field::Energy);
        Load::Energy(e)
    } else {
        return Err(EstimateError::Missing(
            "the fleet's size: {servers} (with {server} or {server_power}), {it_power} or {energy}"
                .into(),
        ));
    };
    if server_power.is_some() && !matches!(load_spec, Load::Servers { .. }) {
        return Err(EstimateError::Missing("{servers}: {server_power} is the power of one server, so give the number of servers too".into()));
    }
    let mut notes = Vec::new();
    let split = split_for(
        cat,
        &hw,
        server_power.map(|r| r.mid()),
        &mut out,
        &mut notes,
    )?;
    let mut site = resolve_site(cat, s, &mut out)?.site;
    if f.hours.is_none() {
        notes.push(if matches!(load_spec, Load::Energy(_)) {
            "no {hours} or {days}: {energy} is taken as one day's (24 h) energy, from which the IT power and per-year figures follow; give {hours} or {days} for the period it covers".into()
        } else {
            "no {hours} or {days}: the period is one day (24 h); give {hours} or {days} for another".into()
        });
    }
    fallback_notes(s, &out, &mut notes);
    hardware_embodied(&mut site, &hw, &mut out);
    Ok(Resolved {
        spec: FleetSpec {
            load: load_spec,
            hours,
            split,
            site,
        },
        assumptions: out,
        published: Vec::new(),
        details: Details::default(),
        notes,
    })
}

/// The inputs against their limits, and the pairs that contradict each other.
fn check(f: &FleetInputs) -> Result<(), EstimateError> {
    crate::limits::check_all(&[
        (Field::Servers, f.servers),
        (Field::Period, f.hours),
        (Field::ItPower, f.it_power),
        (Field::Energy, f.energy),
    ])?;
    super::check_hardware(&f.hw)?;
    conflict(
        (Field::Servers, f.servers.is_some()),
        (Field::ItPower, f.it_power.is_some()),
        "give a server count or a total IT power",
    )?;
    conflict(
        (Field::Servers, f.servers.is_some()),
        (Field::Energy, f.energy.is_some()),
        "give a server count or a total energy",
    )?;
    conflict(
        (Field::ItPower, f.it_power.is_some()),
        (Field::Energy, f.energy.is_some()),
        "give a total IT power or a total energy",
    )
}

/// The period, hours: given, or a day.
fn period(f: &FleetInputs, out: &mut Vec<Assumption>) -> Result<Range, EstimateError> {
    Ok(match positive(Field::Period, f.hours)? {
        Some(h) => {
            user(out, "period", &h, "h", Field::Period);
            h
        }
        None => {
            out.push(Assumption {
                name: "period".into(),
                value: "24 h".into(),
                origin: Origin::Default,
                source: Some("one day when neither {hours} nor {days} is given".into()),
                field: None,
            });
            Range::point(24.0)
        }
    })
}

/// `n` servers at their power (given, or their row's maximum) and load.
fn servers_load(
    cat: &Catalog,
    f: &FleetInputs,
    hw: &super::Hardware<'_>,
    n: Range,
    server_power: Option<Range>,
    out: &mut Vec<Assumption>,
) -> Result<Load, EstimateError> {
    user(out, "servers", &n, "", Field::Servers);
    let w = match (server_power, hw.server) {
        (Some(p), _) => {
            user(out, "server_power", &p, "W", Field::ServerPower);
            p
        }
        (None, Some(srv)) => match srv.max_power_kw {
            Some(kw) => {
                let r = Range::point(kw * 1000.0);
                catalog_value(out, "server_power", r, "W", format!("{}: {}", srv.name, srv.cite()));
                r
            }
            None => return Err(EstimateError::Missing(format!("server {:?} publishes no maximum power: give {{server_power}}", srv.name).into())),
        },
        (None, None) => return Err(EstimateError::Missing("{server} or {server_power}: the power of one server (e.g. {server} hgx-a100 or {server_power} 6.5kW)".into())),
    };
    let l = load(cat, &f.hw, "fleet.load", out)?;
    let per = if hw.accel.is_some() || f.hw.gpus_per_server.is_some() {
        hw.per_server
    } else {
        Range::point(0.0)
    };
    Ok(Load::Servers {
        servers: n,
        server_w: w,
        load: l,
        accelerators_per_server: per,
    })
}
