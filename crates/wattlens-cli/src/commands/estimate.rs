//! `wattlens estimate train|infer|fleet|datacenter`: resolve flags, run the model, print, check budgets.

use crate::cli::{
    DatacenterArgs, EstimateCommand, FleetArgs, Format, InferArgs, OutputArgs, TrainArgs,
};
use crate::settings::{self, count, range, range_in, Config};
use crate::{ExitStatus, Output};
use anyhow::{bail, Context, Result};
use wattlens::catalog::Catalog;
use wattlens::estimate::resolve::{
    self, Basis, DatacenterInputs, FleetInputs, HardwareInputs, InferInputs, Precision, TrainInputs,
};
use wattlens::estimate::{run_resolved, Estimate};
use wattlens::input::Dim;
use wattlens::report::{self, compare};
use wattlens::uncertainty::fmt_num;

/// Runs an estimate subcommand.
pub fn run(
    cmd: &EstimateCommand,
    cat: &Catalog,
    cfg: &Config,
    out: &mut Output,
) -> Result<ExitStatus> {
    let (estimate, o) = match cmd {
        EstimateCommand::Train(a) => (train(a, cat, cfg)?, &a.out),
        EstimateCommand::Fleet(a) => (fleet(a, cat, cfg)?, &a.out),
        EstimateCommand::Infer(a) => (infer(a, cat, cfg)?, &a.out),
        EstimateCommand::Datacenter(a) => (datacenter(a, cat, cfg)?, &a.out),
    };
    print(&estimate, o, out)?;
    budgets(&estimate, o)
}

fn train(a: &TrainArgs, cat: &Catalog, cfg: &Config) -> Result<Estimate> {
    let precision = Precision::parse(&a.precision).with_context(|| {
        format!(
            "invalid value for --precision: {:?}; use fp32, bf16, fp16, fp8 or int8",
            a.precision
        )
    })?;
    if precision == Precision::Int4 {
        bail!("invalid value for --precision: int4 is an inference weight format; use fp32, bf16, fp16, fp8 or int8");
    }
    let inputs = TrainInputs {
        model: a.model.clone(),
        params: range("--params", a.params.as_deref(), Dim::Count)?,
        active_params: range("--active-params", a.active_params.as_deref(), Dim::Count)?,
        tokens: range("--tokens", a.tokens.as_deref(), Dim::Count)?,
        flops: range("--flops", a.flops.as_deref(), Dim::Count)?,
        gpus: count("--gpus", a.gpus.as_deref())?,
        wall_h: range_in("--days", a.days.as_deref(), Dim::Time, "d")?,
        gpu_hours: range("--gpu-hours", a.gpu_hours.as_deref(), Dim::Count)?,
        mfu: range("--mfu", a.mfu.as_deref(), Dim::Fraction)?,
        precision,
        basis: a.power_basis.as_deref().map(|b| match b {
            "server" => Basis::Server,
            "measured" => Basis::Measured,
            _ => Basis::Tdp,
        }),
        gpu_power: settings::power("--gpu-power", a.gpu_power.as_deref())?,
        interruptions: count("--interruptions", a.interruptions.as_deref())?,
        mtbf_h: range_in("--mtbf", a.mtbf.as_deref(), Dim::Time, "h")?,
        checkpoint_h: range_in(
            "--checkpoint-minutes",
            a.checkpoint_minutes.as_deref(),
            Dim::Time,
            "min",
        )?,
        restart_h: range_in(
            "--restart-minutes",
            a.restart_minutes.as_deref(),
            Dim::Time,
            "min",
        )?,
        interval_h: range_in(
            "--checkpoint-interval",
            a.checkpoint_interval.as_deref(),
            Dim::Time,
            "min",
        )?,
        hw: settings::hardware(&a.hw)?,
    };
    let site = settings::site(&a.site, &cfg.site)?;
    let r = resolve::train(cat, &inputs, &site)?;
    Ok(run_resolved(r, settings::mc(&a.out, cfg)?))
}

fn fleet(a: &FleetArgs, cat: &Catalog, cfg: &Config) -> Result<Estimate> {
    let inputs = FleetInputs {
        servers: count("--servers", a.servers.as_deref())?,
        hours: settings::period(a.hours.as_deref(), a.days.as_deref())?,
        it_power: settings::power("--it-power", a.it_power.as_deref())?,
        energy: range("--energy", a.energy.as_deref(), Dim::Energy)?,
        hw: settings::hardware(&a.hw)?,
    };
    let site = settings::site(&a.site, &cfg.site)?;
    let r = resolve::fleet(cat, &inputs, &site)?;
    Ok(run_resolved(r, settings::mc(&a.out, cfg)?))
}

fn infer(a: &InferArgs, cat: &Catalog, cfg: &Config) -> Result<Estimate> {
    let precision = Precision::parse(&a.precision).with_context(|| {
        format!(
            "invalid value for --precision: {:?}; use fp32, bf16, fp16, fp8, int8 or int4",
            a.precision
        )
    })?;
    let inputs = InferInputs {
        model: a.model.clone(),
        params: range("--params", a.params.as_deref(), Dim::Count)?,
        active_params: range("--active-params", a.active_params.as_deref(), Dim::Count)?,
        hw: HardwareInputs {
            gpu: a.gpu.clone(),
            server: a.server.clone(),
            ..HardwareInputs::default()
        },
        gpus: count("--gpus", a.gpus.as_deref())?,
        input_tokens: count("--input-tokens", a.input_tokens.as_deref())?,
        output_tokens: count("--output-tokens", a.output_tokens.as_deref())?,
        batch: count("--batch", a.batch.as_deref())?,
        precision,
        requests: count("--requests", a.requests.as_deref())?,
        requests_per_day: range(
            "--requests-per-day",
            a.requests_per_day.as_deref(),
            Dim::Count,
        )?,
        energy_per_request: range(
            "--energy-per-request",
            a.energy_per_request.as_deref(),
            Dim::Energy,
        )?,
        utilization: range("--utilization", a.utilization.as_deref(), Dim::Fraction)?,
        mfu: range("--mfu", a.mfu.as_deref(), Dim::Fraction)?,
        mbu: range("--mbu", a.mbu.as_deref(), Dim::Fraction)?,
    };
    let site = settings::site(&a.site, &cfg.site)?;
    let r = resolve::infer(cat, &inputs, &site)?;
    Ok(run_resolved(r, settings::mc(&a.out, cfg)?))
}

fn datacenter(a: &DatacenterArgs, cat: &Catalog, cfg: &Config) -> Result<Estimate> {
    let inputs = DatacenterInputs {
        it_power: settings::power("--it-power", a.it_power.as_deref())?,
        servers: count("--servers", a.servers.as_deref())?,
        hours: settings::period(a.hours.as_deref(), a.days.as_deref())?,
        breakdown: a.breakdown.clone(),
        rack_power: settings::power("--rack-power", a.rack_power.as_deref())?,
        servers_per_rack: count("--servers-per-rack", a.servers_per_rack.as_deref())?,
        hw: settings::hardware(&a.hw)?,
    };
    let site = settings::site(&a.site, &cfg.site)?;
    let r = resolve::datacenter(cat, &inputs, &site)?;
    settings::warn_breakdown_pue(inputs.breakdown.as_deref());
    Ok(run_resolved(r, settings::mc(&a.out, cfg)?))
}

fn print(e: &Estimate, o: &OutputArgs, out: &mut Output) -> Result<()> {
    let format = if o.json { Format::Json } else { o.format };
    let cmp = o.compare.as_deref().map(|p| comparison(e, p)).transpose()?;
    let text = match format {
        Format::Json => {
            let mut v = e.to_json();
            if let Some(c) = &cmp {
                v["comparison"] = c.to_json();
            }
            let mut s = serde_json::to_string_pretty(&v)?;
            s.push('\n');
            s
        }
        Format::Csv if cmp.is_some() => {
            bail!("--compare works with --format table, markdown or json, not csv")
        }
        Format::Csv => report::csv(e)?,
        Format::Markdown => {
            report::markdown(e, o.explain) + &cmp.map_or(String::new(), |c| c.render(true))
        }
        Format::Table => {
            report::table(e, o.explain) + &cmp.map_or(String::new(), |c| c.render(false))
        }
    };
    out.stdout(&text)
}

/// The `--compare FILE` section: the file read, parsed and matched figure by figure.
fn comparison(e: &Estimate, path: &std::path::Path) -> Result<compare::Comparison> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--compare {shown}: cannot read the file"))?;
    let v: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!("--compare {shown}: not JSON; give the file that `--json` wrote")
    })?;
    compare::compare(e, &v, &shown).with_context(|| format!("--compare {shown}"))
}

fn budgets(e: &Estimate, o: &OutputArgs) -> Result<ExitStatus> {
    let mut status = ExitStatus::Success;
    if let Some(max) = range("--max-carbon", o.max_carbon.as_deref(), Dim::Mass)? {
        let p50 = e.get("carbon_kgco2e").map_or(0.0, |p| p.p50);
        if !max.is_point() {
            bail!("invalid value for --max-carbon: a budget is a single value");
        }
        if p50 > max.lo {
            eprintln!(
                "wattlens: carbon budget exceeded: P50 {} kgCO2e > --max-carbon {} kgCO2e",
                fmt_num(p50),
                fmt_num(max.lo)
            );
            status = ExitStatus::Failure;
        }
    }
    if let Some(max) = range("--max-energy", o.max_energy.as_deref(), Dim::Energy)? {
        let p50 = e.get("facility_energy_kwh").map_or(0.0, |p| p.p50);
        if !max.is_point() {
            bail!("invalid value for --max-energy: a budget is a single value");
        }
        if p50 > max.lo {
            eprintln!(
                "wattlens: energy budget exceeded: P50 {} kWh > --max-energy {} kWh",
                fmt_num(p50),
                fmt_num(max.lo)
            );
            status = ExitStatus::Failure;
        }
    }
    Ok(status)
}
