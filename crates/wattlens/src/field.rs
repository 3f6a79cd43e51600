//! The inputs of an estimate by name ([`Field`]), and messages that mention them ([`Msg`]).
//!
//! The library never speaks a front end's vocabulary: an error or note names the field (`pue`),
//! and each front end renders it in its own words (the CLI says `--pue`, a config file
//! `pue = ...`, Python `pue=`). A [`Msg`] is a message template whose field references are
//! written `{pue}`; [`Msg::render`] puts each front end's word in, and its `Display` uses the
//! field's own name.

use std::fmt;

macro_rules! fields {
    ($($(#[$doc:meta])* $v:ident = $name:literal,)*) => {
        /// One input of an estimate or measurement, named by what it is, not by how a front end
        /// spells it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Field {
            $($(#[$doc])* $v,)*
        }

        impl Field {
            /// Every field, in declaration order.
            pub const ALL: &'static [Field] = &[$(Field::$v,)*];

            /// The field's snake_case name (`server_power`).
            #[must_use]
            pub fn name(self) -> &'static str {
                match self {
                    $(Field::$v => $name,)*
                }
            }
        }
    };
}

fields! {
    /// Parameters active per token.
    ActiveParams = "active_params",
    /// Checkpoints written asynchronously (training stalls only for a snapshot).
    Asynchronous = "asynchronous",
    /// Link bandwidth for moving data.
    Bandwidth = "bandwidth",
    /// Sequences decoded together.
    Batch = "batch",
    /// A facility's energy split into IT, cooling, power and other shares.
    Breakdown = "breakdown",
    /// Carbon-free energy share.
    Cfe = "cfe",
    /// Time between checkpoints.
    CheckpointInterval = "checkpoint_interval",
    /// Size of one checkpoint.
    CheckpointSize = "checkpoint_size",
    /// Time to write one checkpoint.
    CheckpointMinutes = "checkpoint_minutes",
    /// How a personal device is charged (wired, wireless).
    Charger = "charger",
    /// A cooling type.
    Cooling = "cooling",
    /// CPU thermal design power (all sockets).
    CpuTdp = "cpu_tdp",
    /// Data to move.
    Data = "data",
    /// A data-centre profile.
    Datacenter = "datacenter",
    /// When a planned job must be done.
    Deadline = "deadline",
    /// Wall-clock length of a run.
    Days = "days",
    /// A phone, laptop or edge board that runs the model on itself.
    Device = "device",
    /// How long a planned job runs.
    Duration = "duration",
    /// IT energy of a fleet.
    Energy = "energy",
    /// Energy of one request (replaces the model of a request).
    EnergyPerRequest = "energy_per_request",
    /// The country whose homes and cars the equivalents use.
    EquivalentCountry = "equivalent_country",
    /// Off-site water per kWh of electricity.
    Ewif = "ewif",
    /// Total compute.
    Flops = "flops",
    /// An accelerator model.
    Gpu = "gpu",
    /// Accelerator-hours of a run.
    GpuHours = "gpu_hours",
    /// Measured average power of one accelerator.
    GpuPower = "gpu_power",
    /// Accelerators of a run.
    Gpus = "gpus",
    /// Accelerators in one server.
    GpusPerServer = "gpus_per_server",
    /// A grid region.
    Grid = "grid",
    /// A period in hours.
    Hours = "hours",
    /// The period a fleet or data centre is accounted over (hours or days).
    Period = "period",
    /// Prompt tokens of one request.
    InputTokens = "input_tokens",
    /// Location-based grid carbon intensity.
    Intensity = "intensity",
    /// Interruptions over a run.
    Interruptions = "interruptions",
    /// Average IT power.
    ItPower = "it_power",
    /// Service life of the hardware.
    Lifetime = "lifetime",
    /// Average load of the hardware.
    Load = "load",
    /// Market-based carbon intensity.
    MarketIntensity = "market_intensity",
    /// The most pauses an interruptible job may take.
    MaxPauses = "max_pauses",
    /// A budget of operational carbon.
    MaxCarbon = "max_carbon",
    /// A budget of facility energy.
    MaxEnergy = "max_energy",
    /// Memory bandwidth utilisation.
    Mbu = "mbu",
    /// Model FLOP utilisation.
    Mfu = "mfu",
    /// The shortest chunk an interruptible job may run for.
    MinChunk = "min_chunk",
    /// An AI model.
    Model = "model",
    /// Mean time between interruptions.
    Mtbf = "mtbf",
    /// Mean time between failures of one device.
    MtbfPerDevice = "mtbf_per_device",
    /// Energy of moving data over the network, per GB.
    NetworkIntensity = "network_intensity",
    /// Generated tokens of one request.
    OutputTokens = "output_tokens",
    /// Total parameters of a model.
    Params = "params",
    /// The constant IT power of a planned job.
    Power = "power",
    /// The basis of accelerator power (tdp, server, measured).
    PowerBasis = "power_basis",
    /// A cap on accelerator power (a share of board power, or watts).
    PowerCap = "power_cap",
    /// Numeric precision.
    Precision = "precision",
    /// Electricity price.
    Price = "price",
    /// Power usage effectiveness.
    Pue = "pue",
    /// Power of one rack.
    RackPower = "rack_power",
    /// Requests in all.
    Requests = "requests",
    /// Requests a day.
    RequestsPerDay = "requests_per_day",
    /// Candidate regions of a plan.
    Regions = "regions",
    /// Where the users or the data of a plan are (a location key).
    From = "from",
    /// Time to restart after an interruption.
    RestartMinutes = "restart_minutes",
    /// A carbon-intensity time series.
    Series = "series",
    /// A server model.
    Server = "server",
    /// Power of one server.
    ServerPower = "server_power",
    /// Servers of a fleet or run.
    Servers = "servers",
    /// Servers in one rack.
    ServersPerRack = "servers_per_rack",
    /// How long training stalls for one asynchronous checkpoint.
    StallMinutes = "stall_minutes",
    /// When a planned job may start at the earliest.
    Start = "start",
    /// Write bandwidth of checkpoint storage.
    StorageBandwidth = "storage_bandwidth",
    /// Training tokens.
    Tokens = "tokens",
    /// Share of time a serving deployment is busy.
    Utilization = "utilization",
    /// On-site water per kWh of IT energy.
    Wue = "wue",
    /// Years of a growth trajectory.
    Years = "years",
    /// Yearly growth of the demand for a fleet's service (a trajectory).
    DemandGrowth = "demand_growth",
    /// Yearly fall of a fleet's energy per unit of service (a trajectory).
    EfficiencyGain = "efficiency_gain",
    /// Elasticity of demand to the cost of a unit of service (rebound; a trajectory).
    Elasticity = "elasticity",
    /// Yearly fall of the grid's carbon intensity (a trajectory).
    GridDecarbonisation = "grid_decarbonisation",
    /// Calendar year of a trajectory's base year.
    StartYear = "start_year",
    /// A named trajectory scenario with its published base and rates.
    Preset = "preset",
}

impl Field {
    /// The field as a reference in a [`Msg`] template (`{pue}`), for texts built by hand.
    #[must_use]
    pub fn reference(self) -> String {
        format!("{{{}}}", self.name())
    }

    /// The field with this snake_case name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.name() == name)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A message that may mention fields, as a template: `{pue}` stands for the field `pue`, to be
/// rendered in the reader's words. Braces around anything that is not a field name stay as
/// they are.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Msg(String);

impl Msg {
    /// A message from its template text.
    #[must_use]
    pub fn new(template: impl Into<String>) -> Self {
        Self(template.into())
    }

    /// The template text, field references unrendered.
    #[must_use]
    pub fn template(&self) -> &str {
        &self.0
    }

    /// The text with each field reference replaced by `name(field)`.
    #[must_use]
    pub fn render(&self, name: &dyn Fn(Field) -> String) -> String {
        render(&self.0, name)
    }

    /// The fields the message mentions, in order.
    #[must_use]
    pub fn fields(&self) -> Vec<Field> {
        let mut out = Vec::new();
        walk(&self.0, &mut |f| {
            out.push(f);
            String::new()
        });
        out
    }
}

/// Renders a template text (a [`Msg`]'s, or any text a library value carries that may mention
/// fields, such as an assumption's source).
#[must_use]
pub fn render(template: &str, name: &dyn Fn(Field) -> String) -> String {
    walk(template, &mut |f| name(f))
}

fn walk(template: &str, name: &mut dyn FnMut(Field) -> String) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let field = after
            .find('}')
            .and_then(|close| Some((Field::parse(&after[..close])?, close)));
        match field {
            Some((f, close)) => {
                out.push_str(&name(f));
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&|x| x.name().to_string()))
    }
}

impl From<String> for Msg {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Msg {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

/// Puts a front end's words for the fields into an estimate's texts, once, before it is
/// rendered: the source of each assumption the user gave through a field, and the field
/// references in every text it carries (notes, assumption sources, explanation steps, the
/// intensity's scope, the sources of equivalents and published figures).
pub fn name_fields(e: &mut crate::result::Report, name: &dyn Fn(Field) -> String) {
    for a in &mut e.assumptions {
        a.source = match (&a.source, a.field) {
            (None, Some(f)) => Some(name(f)),
            (Some(s), _) => Some(render(s, name)),
            (None, None) => None,
        };
    }
    for n in &mut e.notes {
        *n = render(n, name);
    }
    for s in &mut e.steps {
        s.formula = render(&s.formula, name);
        if let Some(src) = &mut s.source {
            *src = render(src, name);
        }
    }
    e.intensity_scope = render(&e.intensity_scope, name);
    for q in &mut e.equivalents {
        q.description = render(&q.description, name);
        q.source = render(&q.source, name);
    }
    for p in &mut e.published {
        p.source = render(&p.source, name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case_and_parse_back() {
        for f in Field::ALL {
            let n = f.name();
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{n}");
            assert_eq!(Field::parse(n), Some(*f), "{n}");
        }
        let mut names: Vec<_> = Field::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Field::ALL.len());
    }

    #[test]
    fn a_message_renders_each_field_in_the_readers_words() {
        let m = Msg::new("give {gpus} or {gpu_hours}, not {both} {x");
        assert_eq!(m.to_string(), "give gpus or gpu_hours, not {both} {x");
        let flag = |f: Field| format!("--{}", f.name().replace('_', "-"));
        assert_eq!(m.render(&flag), "give --gpus or --gpu-hours, not {both} {x");
        assert_eq!(m.fields(), vec![Field::Gpus, Field::GpuHours]);
    }

    #[test]
    fn an_estimate_is_named_in_the_readers_words_once() {
        use crate::catalog::Catalog;
        use crate::estimate::resolve::{fleet, FleetInputs};
        use crate::estimate::run_resolved;
        use crate::estimate::site::SiteInputs;
        use crate::runner::McOptions;
        use crate::uncertainty::Range;
        let inputs = FleetInputs {
            it_power: Some(Range::point(1e5)),
            ..FleetInputs::default()
        };
        let site = SiteInputs {
            pue: Some(Range::point(1.2)),
            ..SiteInputs::default()
        };
        let r = fleet(&Catalog::embedded(), &inputs, &site).expect("resolves");
        let mut e = run_resolved(r, McOptions::default());
        let pue = |e: &crate::result::Report| {
            e.assumptions
                .iter()
                .find(|a| a.name == "pue")
                .cloned()
                .expect("a pue assumption")
        };
        // The library records the field, not a flag.
        assert_eq!(pue(&e).field, Some(Field::Pue));
        assert_eq!(pue(&e).source, None);
        assert!(e
            .notes
            .iter()
            .any(|n| n.starts_with("no {hours} or {days}")));
        assert_eq!(e.user_fields(), vec![Field::ItPower, Field::Pue]);
        name_fields(&mut e, &|f| format!("--{}", f.name().replace('_', "-")));
        assert_eq!(pue(&e).source.as_deref(), Some("--pue"));
        assert!(
            e.notes.iter().all(|n| !n.contains("{hours}")),
            "{:?}",
            e.notes
        );
        assert!(e
            .notes
            .iter()
            .any(|n| n.starts_with("no --hours or --days")));
        let step = e
            .steps
            .iter()
            .find(|s| s.name == "facility_energy")
            .expect("a facility energy step");
        assert_eq!(step.source.as_deref(), Some("--pue"));
    }
}
