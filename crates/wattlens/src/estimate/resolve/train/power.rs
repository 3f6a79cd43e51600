//! The power of a training run's accelerators and servers, on the basis given or implied: board
//! power (`tdp`), a server's maximum (`server`) or a measured average (`measured`).

use super::super::{catalog_value, load, positive, server_host, shares, user, Basis, Hardware};
use super::TrainInputs;
use crate::catalog::{Accelerator, Catalog, Row};
use crate::estimate::power::PowerBasis;
use crate::estimate::EstimateError;
use crate::explain::{Assumption, Origin};
use crate::field::Field;
use crate::uncertainty::Range;

/// The power basis, recorded with whether it was given or derived, and its power figures.
pub(super) fn power(
    cat: &Catalog,
    t: &TrainInputs,
    hw: &Hardware<'_>,
    accel: &Accelerator,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<PowerBasis, EstimateError> {
    let basis = t.basis.unwrap_or(if t.gpu_power.is_some() {
        Basis::Measured
    } else if hw.server.is_some() || t.hw.server_power.is_some() {
        Basis::Server
    } else {
        Basis::Tdp
    });
    out.push(Assumption {
        name: "power_basis".into(),
        value: format!("{basis:?}").to_ascii_lowercase(),
        origin: if t.basis.is_some() {
            Origin::User
        } else {
            Origin::Derived
        },
        source: None,
        field: None,
    });
    Ok(match basis {
        Basis::Tdp => {
            let b = board(accel)?;
            catalog_value(out, "board_power", b, "W", accel.cite());
            let l = load(cat, &t.hw, "train.load", out)?;
            let (h, r) = shares(cat, out)?;
            PowerBasis::Tdp {
                board_w: b,
                load: l,
                host_share: h,
                rest_share: r,
            }
        }
        Basis::Server => server(cat, t, hw, accel, out, notes)?,
        Basis::Measured => {
            let g = positive(Field::GpuPower, t.gpu_power)?.ok_or_else(|| {
                EstimateError::Missing(
                    "{power_basis} measured needs {gpu_power} (average W per accelerator)".into(),
                )
            })?;
            user(out, "accelerator_power", &g, "W", Field::GpuPower);
            let (h, r) = shares(cat, out)?;
            PowerBasis::Measured {
                accel_w: g,
                host_share: h,
                rest_share: r,
            }
        }
    })
}

/// The accelerator's published board power.
fn board(accel: &Accelerator) -> Result<Range, EstimateError> {
    accel.board_power_w.map(Range::point).ok_or_else(|| {
        EstimateError::Missing(
            format!(
                "{} has no published board power: give {{gpu_power}} (measured average W) or {{server_power}}",
                accel.name
            )
            .into(),
        )
    })
}

/// The server basis: the server's power (given or its row's maximum), the load, and the host
/// share of it.
fn server(
    cat: &Catalog,
    t: &TrainInputs,
    hw: &Hardware<'_>,
    accel: &Accelerator,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<PowerBasis, EstimateError> {
    let server_w = match (positive(Field::ServerPower, t.hw.server_power)?, hw.server) {
        (Some(p), _) => {
            user(out, "server_power", &p, "W", Field::ServerPower);
            p
        }
        (None, Some(s)) => match s.max_power_kw {
            Some(kw) => {
                let r = Range::point(kw * 1000.0);
                catalog_value(out, "server_power", r, "W", format!("{}: {}", s.name, s.cite()));
                r
            }
            None => return Err(EstimateError::Missing(format!("server {:?} publishes no maximum power: give {{server_power}} or use {{power_basis}} tdp", s.name).into())),
        },
        (None, None) => return Err(EstimateError::Missing("{power_basis} server needs {server} or {server_power}".into())),
    };
    let l = load(cat, &t.hw, "train.load", out)?;
    let board_w = board(accel).unwrap_or(Range::point(0.0));
    let host = server_host(
        cat,
        hw.server,
        Some(board_w.mid() * hw.per_server.mid()),
        out,
        notes,
    )?
    .unwrap_or(Range::point(0.0));
    Ok(PowerBasis::Server {
        server_w,
        per_server: hw.per_server,
        load: l,
        board_w,
        host_w: host,
    })
}
