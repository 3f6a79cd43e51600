//! A training run without accelerators: servers of a given power for a given time.

use super::super::{
    catalog_value, fallback_notes, hardware_embodied, load, positive, server_host, user, Basis,
    Hardware,
};
use super::TrainInputs;
use crate::catalog::{Catalog, Row};
use crate::estimate::power::PowerBasis;
use crate::estimate::site::{coefficient, resolve as resolve_site, SiteInputs};
use crate::estimate::train::{Compute, Duration, TrainSpec};
use crate::estimate::EstimateError;
use crate::explain::{Assumption, Origin};
use crate::field::Field;
use crate::result::HardwareDetails;
use crate::uncertainty::Range;

/// A CPU-only run: `servers` (default 1) servers of `server_power` (or a server row's
/// maximum) at `load` for `days`; host CPUs and memory plus the rest of the server, no
/// accelerator component and no MFU (there is no accelerator peak).
#[allow(clippy::too_many_arguments)]
pub(super) fn cpu_only(
    cat: &Catalog,
    t: &TrainInputs,
    s: &SiteInputs,
    hw: &Hardware<'_>,
    compute: Compute,
    wall: Option<Range>,
    gpu_hours: Option<Range>,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<(TrainSpec, HardwareDetails), EstimateError> {
    refuse_accelerator_inputs(t, gpu_hours)?;
    let wall = wall.ok_or_else(|| {
        EstimateError::Missing(
            "{days}: a CPU-only run has no accelerator peak to derive its length from the compute"
                .into(),
        )
    })?;
    user(out, "wall_time", &wall.scale(1.0 / 24.0), "d", Field::Days);
    let (n, server_w) = servers(t, hw, out)?;
    let l = load(cat, &t.hw, "train.load", out)?;
    let host = host(cat, hw, server_w, out, notes)?;
    let power = PowerBasis::Server {
        server_w,
        per_server: Range::point(1.0),
        load: l,
        board_w: Range::point(0.0),
        host_w: host,
    };
    let failures = super::failures::failures(t, out)?;
    let mut site = resolve_site(cat, s, out)?.site;
    fallback_notes(s, out, notes);
    hardware_embodied(&mut site, hw, out);
    site.embodied.per_accelerator_kg =
        crate::footprint::Param::new(Range::point(0.0), "a CPU-only run has no accelerators");
    let extra = HardwareDetails {
        model: None,
        accelerator: Some(hw.server.map_or("a CPU-only server".to_string(), |srv| {
            format!("{} (CPU only)", srv.name)
        })),
    };
    Ok((
        TrainSpec {
            compute,
            peak: Range::point(0.0),
            accelerators: n,
            per_server: Range::point(1.0),
            duration: Duration::Wall(wall),
            power,
            failures,
            site,
            cpu_only: true,
            power_cap: None,
        },
        extra,
    ))
}

/// Refuses the inputs that only an accelerator run has.
fn refuse_accelerator_inputs(
    t: &TrainInputs,
    gpu_hours: Option<Range>,
) -> Result<(), EstimateError> {
    for (field, given) in [
        (Field::Gpus, t.gpus.is_some()),
        (Field::GpusPerServer, t.hw.gpus_per_server.is_some()),
        (Field::GpuPower, t.gpu_power.is_some()),
        (Field::Mfu, t.mfu.is_some()),
        (Field::GpuHours, gpu_hours.is_some()),
    ] {
        if given {
            return Err(EstimateError::Invalid {
                field,
                message: "a CPU-only run (a server without accelerators) has no accelerators: give {servers} and {days}".into(),
            });
        }
    }
    if matches!(t.basis, Some(Basis::Tdp | Basis::Measured)) {
        return Err(EstimateError::Invalid {
            field: Field::PowerBasis,
            message: "a CPU-only run is modelled from the server's power: leave {power_basis} out (or give server)".into(),
        });
    }
    Ok(())
}

/// How many servers (default 1) and the power of one (given, or its row's maximum).
fn servers(
    t: &TrainInputs,
    hw: &Hardware<'_>,
    out: &mut Vec<Assumption>,
) -> Result<(Range, Range), EstimateError> {
    let n = match positive(Field::Servers, t.servers)? {
        Some(n) => {
            user(out, "servers", &n, "", Field::Servers);
            n
        }
        None => {
            out.push(Assumption {
                name: "servers".into(),
                value: "1".into(),
                origin: Origin::Default,
                source: Some("one server when {servers} is not given".into()),
                field: None,
            });
            Range::point(1.0)
        }
    };
    let server_w = match (positive(Field::ServerPower, t.hw.server_power)?, hw.server) {
        (Some(p), _) => {
            user(out, "server_power", &p, "W", Field::ServerPower);
            p
        }
        (None, Some(srv)) => match srv.max_power_kw {
            Some(kw) => {
                let r = Range::point(kw * 1000.0);
                catalog_value(
                    out,
                    "server_power",
                    r,
                    "W",
                    format!("{}: {}", srv.name, srv.cite()),
                );
                r
            }
            None => {
                return Err(EstimateError::Missing(
                    format!(
                        "server {:?} publishes no maximum power: give {{server_power}}",
                        srv.name
                    )
                    .into(),
                ))
            }
        },
        (None, None) => {
            return Err(EstimateError::Missing(
                "{server} or {server_power}: the power of one server".into(),
            ))
        }
    };
    Ok((n, server_w))
}

/// The host's power: the row's CPU TDP and DRAM where it publishes them, else the server less
/// the default rest-of-server share.
fn host(
    cat: &Catalog,
    hw: &Hardware<'_>,
    server_w: Range,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<Range, EstimateError> {
    // Host at the row's CPU TDP and DRAM where it publishes them, else the rest of the server
    // as the default share of the host (as `wattlens run` models a machine).
    let host = match hw.server {
        Some(srv) => server_host(cat, Some(srv), None, out, notes)?,
        None => None,
    };
    Ok(match host {
        Some(h) => h,
        None => {
            let r = coefficient(cat, "rest.share", "rest_share", 1.0, out)?.range;
            Range::new(server_w.lo / (1.0 + r.hi), server_w.hi / (1.0 + r.lo))
        }
    })
}
