//! The one table from the library's input names ([`Field`]) to this CLI's flags, and the
//! renderers that put the flags into library messages: the library says `pue`, the terminal
//! says `--pue`.

use wattlens::estimate::EstimateError;
use wattlens::field::{Field, Msg};
use wattlens::result::Report;

/// Each field and the flag that gives it (`Period` is the pair `--hours`/`--days`).
const FLAGS: &[(Field, &str)] = &[
    (Field::ActiveParams, "--active-params"),
    (Field::Asynchronous, "--async"),
    (Field::Batch, "--batch"),
    (Field::Breakdown, "--breakdown"),
    (Field::Cfe, "--cfe"),
    (Field::CheckpointInterval, "--checkpoint-interval"),
    (Field::CheckpointMinutes, "--checkpoint-minutes"),
    (Field::CheckpointSize, "--checkpoint-size"),
    (Field::Charger, "--charger"),
    (Field::Cooling, "--cooling"),
    (Field::CpuTdp, "--cpu-tdp"),
    (Field::Datacenter, "--datacenter"),
    (Field::Days, "--days"),
    (Field::Device, "--device"),
    (Field::Energy, "--energy"),
    (Field::EnergyPerRequest, "--energy-per-request"),
    (Field::EquivalentCountry, "--equivalent-country"),
    (Field::Ewif, "--ewif"),
    (Field::Flops, "--flops"),
    (Field::Gpu, "--gpu"),
    (Field::GpuHours, "--gpu-hours"),
    (Field::GpuPower, "--gpu-power"),
    (Field::Gpus, "--gpus"),
    (Field::GpusPerServer, "--gpus-per-server"),
    (Field::Grid, "--grid"),
    (Field::Hours, "--hours"),
    (Field::Period, "--hours/--days"),
    (Field::InputTokens, "--input-tokens"),
    (Field::Intensity, "--intensity"),
    (Field::Interruptions, "--interruptions"),
    (Field::ItPower, "--it-power"),
    (Field::Lifetime, "--lifetime"),
    (Field::Load, "--load"),
    (Field::MarketIntensity, "--market-intensity"),
    (Field::MaxCarbon, "--max-carbon"),
    (Field::MaxEnergy, "--max-energy"),
    (Field::Mbu, "--mbu"),
    (Field::Mfu, "--mfu"),
    (Field::Model, "--model"),
    (Field::Mtbf, "--mtbf"),
    (Field::MtbfPerDevice, "--mtbf-per-device"),
    (Field::OutputTokens, "--output-tokens"),
    (Field::Params, "--params"),
    (Field::PowerBasis, "--power-basis"),
    (Field::PowerCap, "--power-cap"),
    (Field::Precision, "--precision"),
    (Field::Price, "--price"),
    (Field::Pue, "--pue"),
    (Field::RackPower, "--rack-power"),
    (Field::Requests, "--requests"),
    (Field::RequestsPerDay, "--requests-per-day"),
    (Field::RestartMinutes, "--restart-minutes"),
    (Field::Series, "--series"),
    (Field::Server, "--server"),
    (Field::ServerPower, "--server-power"),
    (Field::Servers, "--servers"),
    (Field::ServersPerRack, "--servers-per-rack"),
    (Field::StallMinutes, "--stall-minutes"),
    (Field::StorageBandwidth, "--storage-bandwidth"),
    (Field::Tokens, "--tokens"),
    (Field::Utilization, "--utilization"),
    (Field::Wue, "--wue"),
    (Field::Start, "--start"),
    (Field::Power, "--power"),
    (Field::MinChunk, "--min-chunk"),
    (Field::MaxPauses, "--max-pauses"),
    (Field::Duration, "--duration"),
    (Field::Deadline, "--deadline"),
    (Field::Regions, "--regions"),
    (Field::Data, "--data"),
    (Field::Bandwidth, "--bandwidth"),
    (Field::NetworkIntensity, "--network-intensity"),
    (Field::From, "--from"),
    (Field::Years, "--years"),
    (Field::DemandGrowth, "--demand-growth"),
    (Field::EfficiencyGain, "--efficiency-gain"),
    (Field::Elasticity, "--elasticity"),
    (Field::GridDecarbonisation, "--grid-decarbonisation"),
    (Field::StartYear, "--start-year"),
    (Field::Preset, "--preset"),
];

/// The flag that gives `f` (its library name if the table lacks it: a test keeps the table
/// complete).
pub fn flag(f: Field) -> &'static str {
    FLAGS
        .iter()
        .find(|(x, _)| *x == f)
        .map_or_else(|| f.name(), |(_, s)| s)
}

/// The field a flag gives.
pub fn field(flag: &str) -> Option<Field> {
    FLAGS.iter().find(|(_, s)| *s == flag).map(|(f, _)| *f)
}

/// A library message in flags.
pub fn msg(m: &Msg) -> String {
    m.render(&|f| flag(f).to_string())
}

/// A library error in flags.
pub fn error(e: &EstimateError) -> String {
    e.render(&|f| flag(f).to_string())
}

/// A planner's error in flags.
pub fn plan_error(e: &wattlens::plan::PlanError) -> String {
    e.render(&|f| flag(f).to_string())
}

/// An estimate's texts (assumption sources, notes, steps) in flags, before it is printed; a
/// site value that came from the config file is named by its file and key instead.
pub fn name_fields(e: &mut Report, site: &crate::cli::SiteArgs, cfg: &crate::settings::ConfigSite) {
    wattlens::field::name_fields(e, &|f| crate::settings::name_of(site, cfg, flag(f)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_one_flag_and_every_flag_one_field() {
        for f in Field::ALL {
            let n = FLAGS.iter().filter(|(x, _)| x == f).count();
            assert_eq!(n, 1, "{f} has {n} flags in FLAGS");
            assert!(flag(*f).starts_with("--"), "{f}");
            assert_eq!(field(flag(*f)), Some(*f));
        }
        assert_eq!(FLAGS.len(), Field::ALL.len());
    }

    #[test]
    fn errors_and_messages_name_flags() {
        let e = EstimateError::Conflict {
            a: Field::Days,
            b: Field::GpuHours,
            why: Msg::new("with {gpu_hours} the MFU is implied"),
        };
        assert_eq!(
            error(&e),
            "--days and --gpu-hours cannot be used together: with --gpu-hours the MFU is implied"
        );
        assert_eq!(
            e.to_string(),
            "days and gpu_hours cannot be used together: with gpu_hours the MFU is implied"
        );
        assert_eq!(msg(&Msg::new("no {period}")), "no --hours/--days");
    }
}
