//! `estimate infer --device`: the roofline model of a request on a phone, laptop or edge board
//! of the catalog's `devices` table instead of a data-centre accelerator.
//!
//! - decode is memory-bound on the device's bandwidth (`weights / (BW x MBU)` a token at batch
//!   1), prefill compute-bound on its published INT8 (or FP16) peak, with device-class MBU/MFU
//!   defaults;
//! - power is the device's power under ML load throughout (no data-centre low/high levels, no
//!   host or rest of server: the range covers the SoC and its memory);
//! - the wall energy is the device's over its charger's efficiency (wired or wireless) in place
//!   of a PUE; no on-site water; off-site water from the grid's EWIF;
//! - embodied carbon is the device's, amortised over its service life by the time used.

use super::super::{catalog_value, conflict, user, Precision, Resolved};
use super::arch::arch;
use super::{given_or, Given, InferInputs};
use crate::catalog::{Catalog, Device, Model, Row};
use crate::estimate::infer::{replica_memory, Batch, Energy, InferSpec, Roofline, Shape, Volume};
use crate::estimate::site::{coefficient, resolve as resolve_site, SiteInputs};
use crate::estimate::EstimateError;
use crate::explain::{Assumption, Origin};
use crate::field::Field;
use crate::footprint::Param;
use crate::result::{Details, HardwareDetails};
use crate::uncertainty::{fmt_input, Range};
use crate::units::HOURS_PER_YEAR;

/// How a device is charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Charging {
    Wired,
    Wireless,
}

/// Refuses the inputs that name or tune a data centre's hardware together with a device, and a
/// charger without a device.
pub(super) fn check(i: &InferInputs, s: &SiteInputs) -> Result<(), EstimateError> {
    let on = i.device.is_some();
    if !on {
        if i.charger.is_some() {
            return Err(EstimateError::Invalid {
                field: Field::Charger,
                message: "applies to a personal device only: give {device} too, or drop it".into(),
            });
        }
        return Ok(());
    }
    let why = "a device runs the model on itself, without data-centre hardware or facility; drop one of them";
    for (f, given) in [
        (Field::Gpu, i.hw.gpu.is_some()),
        (Field::Gpus, i.gpus.is_some()),
        (Field::Server, i.hw.server.is_some()),
        (Field::Datacenter, s.datacenter.is_some()),
        (Field::Pue, s.pue.is_some()),
        (Field::Cooling, s.cooling.is_some()),
        (Field::Wue, s.wue.is_some()),
        (Field::Utilization, i.utilization.is_some()),
        (Field::EnergyPerRequest, i.energy_per_request.is_some()),
        (Field::PowerCap, i.power_cap.is_some()),
    ] {
        conflict((Field::Device, true), (f, given), why)?;
    }
    Ok(())
}

/// Resolves an inference on a device: the roofline on its bandwidth and peak, its power, its
/// charger and its embodied carbon.
#[allow(clippy::too_many_arguments)]
pub(super) fn on_device(
    cat: &Catalog,
    i: &InferInputs,
    s: &SiteInputs,
    g: &Given,
    model: Option<&Model>,
    output: Range,
    volume: Volume,
    mut out: Vec<Assumption>,
    mut notes: Vec<String>,
    mut extra: HardwareDetails,
) -> Result<Resolved<InferSpec>, EstimateError> {
    let name = i.device.as_deref().unwrap_or_default();
    let dev = cat
        .devices()?
        .get(name)
        .map_err(|e| EstimateError::from_field(Field::Device, e))?;
    out.push(Assumption {
        name: "device".into(),
        value: format!("{} ({})", dev.name, dev.kind.as_deref().unwrap_or("device")),
        origin: Origin::User,
        source: Some(dev.cite()),
        field: Some(Field::Device),
    });
    let charging = charging(i.charger.as_deref())?;
    let a = arch(model, i, &mut out, &mut notes)?;
    let input = given_or(
        cat,
        &mut out,
        g.input,
        ("input_tokens", "", Field::InputTokens),
        "infer.input_tokens",
    )?;
    let batch = match g.batch {
        Some(b) => {
            user(&mut out, "batch", &b, "", Field::Batch);
            b
        }
        None => {
            out.push(Assumption {
                name: "batch".into(),
                value: "1".into(),
                origin: Origin::Default,
                source: Some("one request at a time on a personal device".into()),
                field: None,
            });
            Range::point(1.0)
        }
    };
    let p = i.precision;
    catalog_value(
        &mut out,
        "memory_usable",
        Range::point(dev.memory_usable),
        "",
        format!(
            "{}: {}",
            dev.name,
            dev.memory_usable_source.as_deref().unwrap_or("catalog row")
        ),
    );
    fits(
        dev,
        &a,
        p,
        (input.hi, output.hi, batch.hi),
        dev.memory_usable,
    )?;
    let peak = peak(cat, dev, p, &mut out, &mut notes)?;
    catalog_value(
        &mut out,
        "bandwidth",
        Range::point(dev.mem_bw_gb_s),
        "GB/s",
        dev.cite(),
    );
    catalog_value(
        &mut out,
        "device_power",
        dev.ml_power(),
        "W",
        format!(
            "{}: {}",
            dev.name,
            dev.ml_power_source.as_deref().unwrap_or("catalog row")
        ),
    );
    let mfu = given_or(cat, &mut out, g.mfu, ("mfu", "", Field::Mfu), "device.mfu")?;
    let mbu = given_or(cat, &mut out, g.mbu, ("mbu", "", Field::Mbu), "device.mbu")?;
    let roofline = Roofline {
        total_params: a.total,
        active_params: a.active,
        layers: a.layers,
        kv_width: a.kv_width,
        attn_width: a.attn_width,
        inferred: a.inferred,
        batch,
        input_tokens: input,
        accelerators: 1.0,
        per_server: 1.0,
        peak: peak.scale(1e12),
        bandwidth: Range::point(dev.mem_bw_gb_s * 1e9),
        mfu,
        mbu,
        // The per-sequence overhead was measured on data-centre serving; a device decodes one
        // sequence at a time.
        step_overhead: Range::point(0.0),
        weight_bytes: p.bytes(),
        kv_bytes: p.kv_bytes(),
        board_w: dev.ml_power(),
        power_low: Range::point(1.0),
        power_high: Range::point(1.0),
        power_idle: Range::point(0.0),
        utilisation: Range::point(1.0),
        power_cap: None,
        on_device: true,
    };
    let mut site = resolve_site(cat, s, &mut out)?.site;
    site_on_device(&mut site, dev, charging, s, &mut out)?;
    extra.accelerator = Some(format!("{} (on-device)", dev.name));
    let eff = efficiency(dev, charging)?;
    notes.push(format!(
        "on-device: {} runs the model itself; the energy from the wall is the device's over its {} charger's efficiency ({}), in place of a data centre's PUE; no on-site water (off-site water from the grid's EWIF); the device's embodied carbon is amortised over its service life by the time used",
        dev.name,
        match charging {
            Charging::Wired => "wired",
            Charging::Wireless => "wireless",
        },
        eff.display("")
    ));
    if dev.kind.as_deref() == Some("phone") {
        notes.push("chargers left plugged in between charges also draw no-load power, which a per-charge efficiency leaves out: across Google's phones chargers used about 3x the phones' own energy (Patterson et al., Energy and Emissions of Machine Learning on Smartphones vs. the Cloud, CACM 2024)".into());
    }
    Ok(Resolved {
        spec: InferSpec {
            energy: Energy::Modelled(Box::new(roofline)),
            output_tokens: output,
            volume,
            host_share: Range::point(0.0),
            rest_share: Range::point(0.0),
            site,
        },
        assumptions: out,
        published: Vec::new(),
        details: Details::Infer(extra),
        notes,
    })
}

fn charging(text: Option<&str>) -> Result<Charging, EstimateError> {
    match text.map(str::to_ascii_lowercase).as_deref() {
        None | Some("wired" | "cable" | "usb") => Ok(Charging::Wired),
        Some("wireless" | "qi" | "magsafe" | "inductive") => Ok(Charging::Wireless),
        Some(other) => Err(EstimateError::Invalid {
            field: Field::Charger,
            message: format!("unknown charger {other:?}; use wired or wireless").into(),
        }),
    }
}

/// The charger's wall-to-device efficiency.
fn efficiency(dev: &Device, c: Charging) -> Result<Range, EstimateError> {
    match c {
        Charging::Wired => Ok(dev.charger()),
        Charging::Wireless => dev.wireless().ok_or_else(|| EstimateError::Invalid {
            field: Field::Charger,
            message: format!(
                "{} has no wireless charging in the catalog; use wired",
                dev.name
            )
            .into(),
        }),
    }
}

/// PUE = 1 / charger efficiency, no on-site water, the device's embodied carbon and life.
fn site_on_device(
    site: &mut crate::footprint::Site,
    dev: &Device,
    c: Charging,
    s: &SiteInputs,
    out: &mut Vec<Assumption>,
) -> Result<(), EstimateError> {
    let eff = efficiency(dev, c)?;
    let kind = match c {
        Charging::Wired => "wired charger or power supply",
        Charging::Wireless => "wireless charger",
    };
    // The data-centre figures the site resolution listed do not apply.
    let own_life = s.lifetime_h.is_some();
    out.retain(|a| {
        let dc = matches!(
            a.name.as_str(),
            "pue" | "wue" | "embodied_per_accelerator" | "embodied_per_server"
        );
        let life = a.name == "service_life" && !own_life;
        !(dc || life)
    });
    let src = format!(
        "{}: {}",
        dev.name,
        dev.charger_source.as_deref().unwrap_or("catalog row")
    );
    catalog_value(
        out,
        "charger_efficiency",
        eff,
        &format!("({kind})"),
        src.clone(),
    );
    site.pue = Param::new(
        Range::new(1.0 / eff.hi, 1.0 / eff.lo),
        format!(
            "on-device: 1 / efficiency of the {kind} {} ({src})",
            eff.display("")
        ),
    );
    site.wue = Param::new(Range::point(0.0), "on-device: no on-site cooling water");
    let embodied_src = format!(
        "{} embodied carbon: {}",
        dev.name,
        dev.embodied_source.as_deref().unwrap_or("catalog row")
    );
    catalog_value(
        out,
        "embodied_per_device",
        dev.embodied(),
        "kgCO2e",
        embodied_src.clone(),
    );
    site.embodied.per_accelerator_kg = Param::new(dev.embodied(), embodied_src);
    site.embodied.per_server_kg = Param::new(Range::point(0.0), "on-device: no server");
    if s.lifetime_h.is_none() {
        let src = format!(
            "{}: {}",
            dev.name,
            dev.lifetime_source.as_deref().unwrap_or("catalog row")
        );
        catalog_value(
            out,
            "service_life",
            dev.lifetime_years(),
            "years",
            src.clone(),
        );
        site.embodied.service_life_h = Param::new(dev.lifetime_years().scale(HOURS_PER_YEAR), src);
    }
    Ok(())
}

/// The device's peak at the precision, TOP/s: INT8 for 8- and 4-bit weights, FP16 for the rest
/// (half the INT8 peak where only that is published); the `device.int8_tops` default where the
/// maker publishes no peak.
fn peak(
    cat: &Catalog,
    dev: &Device,
    p: Precision,
    out: &mut Vec<Assumption>,
    notes: &mut Vec<String>,
) -> Result<Range, EstimateError> {
    let int8 = match dev.int8_tops {
        Some(t) => Range::point(t),
        None => {
            notes.push(format!(
                "{} publishes no INT8 or FP16 peak: prefill runs at the device.int8_tops default",
                dev.name
            ));
            coefficient(cat, "device.int8_tops", "int8_peak", 1.0, out)?.range
        }
    };
    let eight_bit = matches!(p, Precision::Int8 | Precision::Int4 | Precision::Fp8);
    let (peak, how) = match (eight_bit, dev.fp16_tflops) {
        (true, _) => (int8, "INT8 peak".to_string()),
        (false, Some(f)) => (Range::point(f), "FP16 peak".to_string()),
        (false, None) => (
            int8.scale(0.5),
            "FP16 taken as half the INT8 peak (NPUs run 16-bit at half their 8-bit rate)"
                .to_string(),
        ),
    };
    out.push(Assumption {
        name: "peak".into(),
        value: peak.display(&format!("TOP/s {}", p.name())),
        origin: if dev.int8_tops.is_some() {
            Origin::Catalog
        } else {
            Origin::Default
        },
        source: Some(format!("{}: {how}; {}", dev.name, dev.cite())),
        field: None,
    });
    Ok(peak)
}

/// Refuses a model whose weights and KV cache (largest batch, longest request) exceed the
/// memory an app may hold on the device.
fn fits(
    dev: &Device,
    a: &super::arch::Arch,
    p: Precision,
    (input, output, batch): (f64, f64, f64),
    usable: f64,
) -> Result<(), EstimateError> {
    let shape = Shape {
        total_params: a.total.hi,
        active_params: a.active.hi,
        layers: a.layers,
        kv_width: a.kv_width,
        attn_width: a.attn_width,
    };
    let b = Batch {
        size: batch,
        input_tokens: input,
        output_tokens: output,
    };
    let need = replica_memory(&shape, &b, p.bytes(), p.kv_bytes()).0;
    let cap = dev.memory_gb * 1e9 * usable;
    if need > cap {
        return Err(EstimateError::Invalid {
            field: Field::Device,
            message: format!(
                "the model does not fit: {} GB of weights and KV cache in {}, more than the {} GB an app may hold on {} ({} of its {} GB); choose a smaller model, a lower {{precision}} or a device with more memory",
                fmt_input(need / 1e9),
                p.name(),
                fmt_input(cap / 1e9),
                dev.name,
                fmt_input(usable),
                fmt_input(dev.memory_gb)
            )
            .into(),
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "device_tests.rs"]
mod tests;
