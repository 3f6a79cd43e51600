//! Command-line structure (clap derive). Values stay as text here; `settings.rs` parses them
//! with units and names the flag in every error.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Energy, carbon and water footprint of AI work: measure, estimate with ranges, explain every
/// step.
#[derive(Debug, Parser)]
#[command(
    name = "wattlens",
    version,
    about = "Energy, carbon and water footprint of AI work: measure, estimate with ranges, explain every step.",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    /// A TOML file of catalog rows that add to or override the embedded catalog.
    #[arg(long, global = true, env = crate::env::CATALOG, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// A TOML config file with defaults for flags (see docs/reference.md).
    #[arg(long, global = true, env = crate::env::CONFIG, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The run history ledger (SQLite) that `run` and `estimate --save` record into and
    /// `history` reads. Default: $XDG_DATA_HOME/wattlens/history.sqlite, else
    /// ~/.local/share/wattlens/history.sqlite.
    #[arg(long, global = true, env = crate::env::HISTORY, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Record nothing in the run history.
    #[arg(long, global = true)]
    pub no_history: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Estimate the footprint of a training run, inference, a server fleet or a data centre.
    #[command(subcommand)]
    Estimate(Box<EstimateCommand>),
    /// List and show the embedded reference data, with sources.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Measure a command and its children: energy by component (RAPL, NVML, hwmon or modelled),
    /// then carbon, water and cost. The command's exit code passes through.
    Run(Box<RunArgs>),
    /// Plan before and around the work: when to run it on an intensity series (window), how
    /// often a training job should checkpoint (checkpoint).
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Check the estimators against published figures they were not fitted on (the disclosure
    /// tables): per row and summarised by calibration and held-back families.
    Validate(ValidateArgs),
    /// The run history: list, show, compare, export and remove recorded runs and saved
    /// estimates.
    History(HistoryArgs),
    /// Render a footprint JSON (`run --json`, `estimate --json`) or a recorded run (history ID)
    /// as a self-contained HTML page, Markdown, a Hugging Face model card, BoAmps, CycloneDX 1.6,
    /// SPDX 3.0 or an SCI score; without SOURCE, the recorded runs over time.
    Report(ReportArgs),
    /// Run on a node: sample its energy continuously, split it among its workloads (cgroups:
    /// systemd units, containers, Slurm jobs, Kubernetes pods) and serve Prometheus metrics.
    Agent(Box<AgentArgs>),
    /// The config file: `config init` prints a commented default.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `wattlens estimate ...`
#[derive(Debug, Subcommand)]
pub enum EstimateCommand {
    /// A training run: compute, duration, power, failures -> energy, carbon, water, cost.
    Train(Box<TrainArgs>),
    /// A fleet of servers: servers x power x load x hours, per day and per year.
    Fleet(Box<FleetArgs>),
    /// Inference: energy, carbon and water per request, per 1,000 tokens and per day.
    Infer(Box<InferArgs>),
    /// A data centre: PUE from an energy breakdown, facility energy and water, rack cooling.
    Datacenter(Box<DatacenterArgs>),
}

/// `wattlens plan ...`
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// A job of known duration and IT power (or a queue of them, --jobs): the lowest-carbon
    /// window between its start and deadline, contiguous or in chunks, against starting at once.
    Window(Box<PlanWindowArgs>),
    /// How often a training job should checkpoint, and the time, energy, carbon and cost its
    /// interruptions lose.
    Checkpoint(Box<CheckpointArgs>),
    /// Where to run: the work's carbon at each candidate region's site plus moving its data
    /// there, and the region that wins with its margin.
    Region(Box<PlanRegionArgs>),
    /// A queue of flexible jobs on a site's own renewable supply (and battery): the schedule
    /// that puts the most job energy on site, the renewable share before and after, the grid
    /// energy and carbon avoided, and how close to the optimum it is.
    Renewable(Box<PlanRenewableArgs>),
}

/// `wattlens validate`
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Which estimator: `train` (accelerator-hours and energy of published training runs) or
    /// `infer` (energy per token of published inference measurements).
    #[arg(long, value_name = "KIND", default_value = "train")]
    pub kind: String,
    /// Write the result as JSON (schema `wattlens.validate/v1`).
    #[arg(long)]
    pub json: bool,
    /// Also refit the calibrated prior leaving each family out, and report every row as an
    /// out-of-family prediction.
    #[arg(long)]
    pub cross_validate: bool,
}

/// `wattlens report SOURCE --format FORMAT`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A footprint JSON file (`wattlens.footprint/v1`), `-` for stdin, or a history ID (`12`,
    /// `#12`, `h:12`: the ID column of `wattlens history list`). Without SOURCE: the runs of
    /// the history ledger over time (`--since`, `--tag`, `--kind`; html or markdown).
    #[arg(value_name = "SOURCE")]
    pub source: Option<String>,
    /// Without SOURCE: which recorded runs the history page shows.
    #[command(flatten)]
    pub filter: HistoryFilterArgs,
    /// html, markdown, model-card, boamps, cyclonedx, spdx or sci.
    #[arg(long, value_name = "FORMAT")]
    pub format: String,
    /// The functional unit the footprint covers, for `sci` (required there): `"1000 requests"`,
    /// `"1 training run"`.
    #[arg(long, value_name = "N UNIT")]
    pub per: Option<String>,
    /// The lifecycle activity: training, fine-tuning or inference (default: inference for an
    /// `estimate infer` result, training otherwise).
    #[arg(long, value_name = "ACTIVITY")]
    pub activity: Option<String>,
    /// Write to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

/// `wattlens catalog ...`
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// List a table's rows (or the tables, with no KIND).
    List {
        /// accelerators, servers, grids, ewif, datacenters, models, equivalents, defaults.
        kind: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one row in full, with its source.
    Show {
        /// The table.
        kind: String,
        /// The row's name or alias.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned terminal table.
    Table,
    /// The `wattlens.footprint/v1` JSON object.
    Json,
    /// One row per figure.
    Csv,
    /// A Markdown table.
    Markdown,
}

/// Output and sampling flags shared by every estimate.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print the `wattlens.footprint/v1` JSON object (same as --format json).
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table", help_heading = "Output")]
    pub format: Format,
    /// Print every step (formula, values, unit, source) and every assumption.
    #[arg(long, help_heading = "Output")]
    pub explain: bool,
    /// Monte Carlo samples when any input is a range.
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub samples: Option<String>,
    /// Monte Carlo seed (output is reproducible for a given seed).
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub seed: Option<u64>,
    /// Put this estimate beside another footprint JSON (a measured `wattlens run --json FILE`
    /// or another estimate's `--json`), figure by figure.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub compare: Option<std::path::PathBuf>,
    /// What-if variants: each value of KEY is one variant that changes that flag alone against
    /// this estimate, on the same random draws (e.g. --vary precision=fp8,int4 --vary pue=1.1);
    /// repeatable. KEY is any input flag of the command without `--`.
    #[arg(long, value_name = "KEY=V1,V2", help_heading = "What-if")]
    pub vary: Vec<String>,
    /// With --vary: every combination of the keys' values instead of one key at a time.
    #[arg(long, requires = "vary", help_heading = "What-if")]
    pub cross: bool,
    /// Exit 1 when the P50 of total carbon exceeds this (kg; e.g. 500t, 20kg).
    #[arg(long, value_name = "MASS", help_heading = "Budgets")]
    pub max_carbon: Option<String>,
    /// Exit 1 when the P50 of facility energy exceeds this (kWh; e.g. 50MWh).
    #[arg(long, value_name = "ENERGY", help_heading = "Budgets")]
    pub max_energy: Option<String>,
    /// Record this estimate in the run history (see `wattlens history`).
    #[arg(long, help_heading = "Output")]
    pub save: bool,
}

/// Where the energy is used. Every value may be a range `a..b`.
#[derive(Debug, Args, Default, Clone)]
pub struct SiteArgs {
    /// Power usage effectiveness (e.g. 1.1, 1.2..1.5).
    #[arg(long, help_heading = "Site")]
    pub pue: Option<String>,
    /// Grid: country code (FR, USA), cloud region (gcp:europe-west1, aws:us-east-1), or named grid (us-egrid:CAMX, cn-north).
    #[arg(long, help_heading = "Site")]
    pub grid: Option<String>,
    /// Location-based carbon intensity (g/kWh; e.g. 390g/kWh, 0.39kg/kWh); overrides --grid's.
    #[arg(long, help_heading = "Site")]
    pub intensity: Option<String>,
    /// Market-based carbon intensity from your contract (g/kWh).
    #[arg(long, help_heading = "Site")]
    pub market_intensity: Option<String>,
    /// Carbon-free share of your supply (0-1 or %): market intensity = location x (1 - share).
    #[arg(long, help_heading = "Site")]
    pub cfe: Option<String>,
    /// On-site water usage effectiveness (L per kWh of IT energy).
    #[arg(long, help_heading = "Site")]
    pub wue: Option<String>,
    /// Water consumed per kWh generated (L per kWh of facility energy).
    #[arg(long, help_heading = "Site")]
    pub ewif: Option<String>,
    /// Electricity price per kWh (USD unless named: 0.12, 0.10EUR/kWh, 95EUR/MWh).
    #[arg(long, help_heading = "Site")]
    pub price: Option<String>,
    /// Data-centre operator or industry profile for PUE/WUE (google, aws, microsoft, uptime ...).
    #[arg(long, help_heading = "Site")]
    pub datacenter: Option<String>,
    /// Cooling type preset (air, evaporative, closed-loop-liquid ...).
    #[arg(long, help_heading = "Site")]
    pub cooling: Option<String>,
    /// Service life for embodied carbon (years; e.g. 5, 0.5y, 1000d).
    #[arg(long, help_heading = "Site")]
    pub lifetime: Option<String>,
    /// Country for the "share of annual electricity" equivalent (default: the grid's country).
    #[arg(long, help_heading = "Site")]
    pub equivalent_country: Option<String>,
    /// Carbon intensity over time: a file (CSV `timestamp,g_per_kwh` or `from,to,g_per_kwh`,
    /// RFC 3339 times, any offset; or a provider's JSON, see --series-format) or a shipped
    /// series (gb-2023, dk1-2024, dk2-2024, ...): location-based carbon follows it over the
    /// work's span.
    #[arg(long, value_name = "FILE|NAME", help_heading = "Site")]
    pub series: Option<PathBuf>,
    /// The --series file's format: csv, electricitymaps, gb, watttime or energinet (default:
    /// detected from the content).
    #[arg(
        long,
        value_name = "FORMAT",
        requires = "series",
        help_heading = "Site"
    )]
    pub series_format: Option<String>,
    /// The --series column holding g/kWh (default g_per_kwh).
    #[arg(long, value_name = "NAME", requires = "series", help_heading = "Site")]
    pub series_column: Option<String>,
    /// The --series column holding point-sample times, when not `timestamp` (e.g.
    /// hour_start_utc in the Energinet files).
    #[arg(long, value_name = "NAME", requires = "series", help_heading = "Site")]
    pub series_time_column: Option<String>,
    /// What the --series values are: average (default), or marginal (refused for footprints:
    /// marginal signals are for planning).
    #[arg(long, value_enum, requires = "series", help_heading = "Site")]
    pub series_signal: Option<SeriesSignal>,
    /// When --series does not cover the span, use the annual intensity, or --intensity if
    /// given (said in the output), instead of stopping with an error.
    #[arg(long, requires = "series", help_heading = "Site")]
    pub series_fallback: bool,
    /// Fill gaps in --series (missing rows, empty cells) no longer than DURATION by linear
    /// interpolation, flagged as filled in the output (e.g. 2h, 30min); longer gaps stay gaps.
    /// Default: no filling.
    #[arg(
        long,
        value_name = "DURATION",
        requires = "series",
        help_heading = "Site"
    )]
    pub series_fill: Option<String>,
}

/// What an intensity series means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SeriesSignal {
    /// The mean intensity of all generation.
    Average,
    /// The intensity of the generator that answers a change in load (not an average).
    Marginal,
}

/// When an estimate happens, for `--series`.
#[derive(Debug, Args, Default, Clone)]
pub struct WhenArgs {
    /// When the work starts (RFC 3339, any offset: 2024-03-04T00:00:00Z); it lasts its
    /// duration or period. Needed with --series.
    #[arg(long, value_name = "TIME", requires = "series", help_heading = "Site")]
    pub start: Option<String>,
}

/// Hardware flags shared by train and fleet.
#[derive(Debug, Args, Default, Clone)]
pub struct HardwareArgs {
    /// Accelerator (h100, a100, mi300x, tpu-v4 ...).
    #[arg(long, help_heading = "Hardware")]
    pub gpu: Option<String>,
    /// Server, system or cloud instance (dgx-h100, hgx-a100, p5.48xlarge ...).
    #[arg(long, help_heading = "Hardware")]
    pub server: Option<String>,
    /// Maximum power of one server (W; e.g. 6.5kW).
    #[arg(long, help_heading = "Hardware")]
    pub server_power: Option<String>,
    /// Accelerators per server.
    #[arg(long, help_heading = "Hardware")]
    pub gpus_per_server: Option<String>,
    /// Average draw as a fraction of the power basis (0-1 or %).
    #[arg(long, help_heading = "Hardware")]
    pub load: Option<String>,
}

/// `estimate train`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct TrainArgs {
    /// A catalog model (llama-3.1-405b, gpt-3, bloom ...): params, tokens and hardware default from it.
    #[arg(long, help_heading = "Workload")]
    pub model: Option<String>,
    /// Total parameters (e.g. 405B).
    #[arg(long, help_heading = "Workload")]
    pub params: Option<String>,
    /// Parameters active per token (MoE; defaults to --params).
    #[arg(long, help_heading = "Workload")]
    pub active_params: Option<String>,
    /// Training tokens (e.g. 15.6T).
    #[arg(long, help_heading = "Workload")]
    pub tokens: Option<String>,
    /// Total training FLOPs instead of params x tokens (e.g. 3.8e25).
    #[arg(long, help_heading = "Workload")]
    pub flops: Option<String>,
    /// Number of accelerators (e.g. 16k).
    #[arg(long, help_heading = "Hardware")]
    pub gpus: Option<String>,
    /// Servers of a CPU-only run (no accelerator: --server or --server-power with --days; default 1).
    #[arg(long, help_heading = "Hardware")]
    pub servers: Option<String>,
    /// Wall-clock duration (days; e.g. 54, 54d, 1296h).
    #[arg(long, help_heading = "Duration")]
    pub days: Option<String>,
    /// Accelerator-hours (e.g. 30.84M).
    #[arg(long, help_heading = "Duration")]
    pub gpu_hours: Option<String>,
    /// Model FLOPs utilisation (0-1 or %) when the duration comes from compute.
    #[arg(long, help_heading = "Duration")]
    pub mfu: Option<String>,
    /// Precision of the peak used with --mfu: fp32, bf16, fp16, fp8, int8.
    #[arg(long, default_value = "bf16", help_heading = "Duration")]
    pub precision: String,
    /// Power basis: tdp (board power x load), server (server max / GPUs per server x load), measured (--gpu-power).
    #[arg(long, value_parser = ["tdp", "server", "measured"], help_heading = "Power")]
    pub power_basis: Option<String>,
    /// Measured average power per accelerator (W).
    #[arg(long, help_heading = "Power")]
    pub gpu_power: Option<String>,
    /// Cap accelerator power: a share of board power (70%) or watts (450W); time and energy from measured power-cap curves.
    #[arg(long, help_heading = "Power")]
    pub power_cap: Option<String>,
    /// Job interruptions over the run (e.g. 466).
    #[arg(long, help_heading = "Failures")]
    pub interruptions: Option<String>,
    /// Mean time between interruptions instead of a count (hours; e.g. 3h).
    #[arg(long, help_heading = "Failures")]
    pub mtbf: Option<String>,
    /// Time to write one checkpoint (minutes).
    #[arg(long, help_heading = "Failures")]
    pub checkpoint_minutes: Option<String>,
    /// Time to restart after an interruption (minutes).
    #[arg(long, help_heading = "Failures")]
    pub restart_minutes: Option<String>,
    /// Checkpoint interval (minutes; default: Daly's optimum).
    #[arg(long, help_heading = "Failures")]
    pub checkpoint_interval: Option<String>,
    #[command(flatten)]
    pub hw: HardwareArgs,
    #[command(flatten)]
    pub site: SiteArgs,
    #[command(flatten)]
    pub when: WhenArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `estimate fleet`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct FleetArgs {
    /// Number of servers (e.g. 3617).
    #[arg(long, help_heading = "Workload")]
    pub servers: Option<String>,
    /// Total average IT power instead of servers (W; e.g. 20MW).
    #[arg(long, help_heading = "Workload")]
    pub it_power: Option<String>,
    /// Total IT energy over the period instead of servers (kWh; e.g. 500MWh).
    #[arg(long, help_heading = "Workload")]
    pub energy: Option<String>,
    /// Period (hours; default 24).
    #[arg(long, help_heading = "Workload")]
    pub hours: Option<String>,
    /// Period (days).
    #[arg(long, help_heading = "Workload")]
    pub days: Option<String>,
    #[command(flatten)]
    pub hw: HardwareArgs,
    #[command(flatten)]
    pub growth: GrowthArgs,
    #[command(flatten)]
    pub site: SiteArgs,
    #[command(flatten)]
    pub when: WhenArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// The growth trajectory flags of `estimate fleet`.
#[derive(Debug, Args, Default, Clone)]
pub struct GrowthArgs {
    /// Years of a trajectory after the base year (1-100): a row per year.
    #[arg(long, allow_hyphen_values = true, help_heading = "Growth")]
    pub years: Option<String>,
    /// Yearly growth of demand for the service (e.g. 20% or 20..30%; above -100%).
    #[arg(long, allow_hyphen_values = true, help_heading = "Growth")]
    pub demand_growth: Option<String>,
    /// Yearly fall of energy per unit of service (e.g. 10%; negative: efficiency worsens).
    #[arg(long, allow_hyphen_values = true, help_heading = "Growth")]
    pub efficiency_gain: Option<String>,
    /// Elasticity of demand to the cost of a unit of service: the rebound (0 none, 1 all the
    /// savings taken back, above 1 backfire).
    #[arg(long, allow_hyphen_values = true, help_heading = "Growth")]
    pub elasticity: Option<String>,
    /// Yearly fall of the grid's carbon intensity (e.g. 5%).
    #[arg(long, allow_hyphen_values = true, help_heading = "Growth")]
    pub grid_decarbonisation: Option<String>,
    /// Calendar year of the base year (default: this year, or the preset's).
    #[arg(long, allow_hyphen_values = true, help_heading = "Growth")]
    pub start_year: Option<String>,
    /// A named trajectory with its published base and rates: iea-2024 (data centres, 460 TWh in
    /// 2022 to about 1,000 TWh in 2026).
    #[arg(long, help_heading = "Growth")]
    pub preset: Option<String>,
}

/// `estimate datacenter`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct DatacenterArgs {
    /// Shares of facility energy: it=0.5,cooling=0.4,power=0.1[,other=...]; PUE = 1 / it.
    #[arg(long, help_heading = "Facility")]
    pub breakdown: Option<String>,
    /// Average IT power (W; e.g. 20MW).
    #[arg(long, help_heading = "Facility")]
    pub it_power: Option<String>,
    /// Servers instead of --it-power (with --server or --server-power).
    #[arg(long, help_heading = "Facility")]
    pub servers: Option<String>,
    /// Period (hours; default a year, 8760).
    #[arg(long, help_heading = "Facility")]
    pub hours: Option<String>,
    /// Period (days).
    #[arg(long, help_heading = "Facility")]
    pub days: Option<String>,
    /// Power of one rack (W; e.g. 80kW): which cooling types handle it.
    #[arg(long, help_heading = "Racks")]
    pub rack_power: Option<String>,
    /// Servers per rack (with --server or --server-power) instead of --rack-power.
    #[arg(long, help_heading = "Racks")]
    pub servers_per_rack: Option<String>,
    #[command(flatten)]
    pub hw: HardwareArgs,
    #[command(flatten)]
    pub site: SiteArgs,
    #[command(flatten)]
    pub when: WhenArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `estimate infer`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct InferArgs {
    /// A catalog model (llama-3.1-8b, mixtral-8x7b, deepseek-v3, gpt-3 ...): parameters and architecture default from it.
    #[arg(long, help_heading = "Workload")]
    pub model: Option<String>,
    /// Total parameters, held in memory (e.g. 8B).
    #[arg(long, help_heading = "Workload")]
    pub params: Option<String>,
    /// Parameters active per token (MoE; defaults to --params).
    #[arg(long, help_heading = "Workload")]
    pub active_params: Option<String>,
    /// Prompt tokens per request (e.g. 500).
    #[arg(long, help_heading = "Workload")]
    pub input_tokens: Option<String>,
    /// Generated tokens per request, reasoning tokens included (e.g. 300, 2k..8k).
    #[arg(long, help_heading = "Workload")]
    pub output_tokens: Option<String>,
    /// Requests decoded together (e.g. 1, 32, 8..64).
    #[arg(long, help_heading = "Workload")]
    pub batch: Option<String>,
    /// Weight precision: fp32, bf16, fp16, fp8, int8, int4.
    #[arg(long, default_value = "bf16", help_heading = "Workload")]
    pub precision: String,
    /// Number of requests the totals cover (default 1).
    #[arg(long, help_heading = "Volume")]
    pub requests: Option<String>,
    /// Requests per day: the totals cover a day, with per-year figures (e.g. 195M).
    #[arg(long, help_heading = "Volume")]
    pub requests_per_day: Option<String>,
    /// Known IT energy of one request instead of the model (kWh; e.g. 2.9Wh, 0.3Wh..3Wh).
    #[arg(long, help_heading = "Volume")]
    pub energy_per_request: Option<String>,
    /// Accelerator (h100, a100, h200, mi300x, l4 ...).
    #[arg(long, help_heading = "Hardware")]
    pub gpu: Option<String>,
    /// Accelerators per model replica (default: the fewest that hold weights and KV cache).
    #[arg(long, help_heading = "Hardware")]
    pub gpus: Option<String>,
    /// Server, for embodied carbon and accelerators per server (dgx-h100, hgx-a100 ...).
    #[arg(long, help_heading = "Hardware")]
    pub server: Option<String>,
    /// Busy share of the service's time (0-1 or %); the rest is idle power.
    #[arg(long, help_heading = "Efficiency")]
    pub utilization: Option<String>,
    /// Achieved fraction of peak compute when compute-bound (0-1 or %).
    #[arg(long, help_heading = "Efficiency")]
    pub mfu: Option<String>,
    /// Achieved fraction of peak memory bandwidth when memory-bound (0-1 or %).
    #[arg(long, help_heading = "Efficiency")]
    pub mbu: Option<String>,
    /// Cap accelerator power: a share of board power (70%) or watts (450W); time and energy from measured power-cap curves.
    #[arg(long, help_heading = "Power")]
    pub power_cap: Option<String>,
    /// Run the model on a phone, laptop or edge board instead of --gpu (iphone-15-pro, macbook-air-m3, jetson-agx-orin ...).
    #[arg(long, help_heading = "Device")]
    pub device: Option<String>,
    /// How the --device is charged: wired (default) or wireless.
    #[arg(long, help_heading = "Device")]
    pub charger: Option<String>,
    #[command(flatten)]
    pub site: SiteArgs,
    #[command(flatten)]
    pub when: WhenArgs,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// Who a run's energy is charged to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Charge {
    /// The measured processes: their share of the active power and of the idle power.
    Processes,
    /// The whole machine, idle power included.
    Machine,
}

/// `wattlens run [OPTIONS] -- CMD [ARGS]...`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Time between polls, 10 ms to 1 h (e.g. 1s, 100ms, 5min, 1h; bare numbers are seconds).
    #[arg(
        long,
        default_value = "1s",
        value_name = "DURATION",
        help_heading = "Measure"
    )]
    pub interval: String,
    /// Attach to a running process (and its children) instead of starting a command.
    #[arg(
        long,
        value_name = "PID",
        conflicts_with = "replay",
        help_heading = "Measure"
    )]
    pub pid: Option<u32>,
    /// Let the command cut measured windows: WATTLENS_MARKS names a file it appends
    /// "begin NAME" and "end NAME" lines to (echo "begin epoch1" >> "$WATTLENS_MARKS").
    #[arg(long, conflicts_with = "replay", help_heading = "Measure")]
    pub marks: bool,
    /// Charge the measured processes (default; a replay: the recorded policy) or the whole
    /// machine.
    #[arg(long, value_enum, help_heading = "Measure")]
    pub charge: Option<Charge>,
    /// Rated power of all the machine's CPUs, for the modelled CPU (W). Default: `--server`'s
    /// row, else the catalog row of this machine's CPU model (TDP x sockets), else 3.5 W per
    /// logical CPU.
    #[arg(long, value_name = "POWER", help_heading = "Measure")]
    pub cpu_tdp: Option<String>,
    /// The server this runs on (catalog row): its CPUs' rating (TDP x sockets) for the modelled CPU.
    #[arg(long, value_name = "NAME", help_heading = "Measure")]
    pub server: Option<String>,
    /// Read RAPL's psys (whole platform) domain instead of package + DRAM.
    #[arg(long, help_heading = "Measure")]
    pub psys: bool,
    /// Folder that stands for /sys (RAPL, hwmon).
    #[arg(long, value_name = "DIR", env = crate::env::SYSFS_ROOT, default_value = "/sys", help_heading = "Measure")]
    pub sysfs_root: PathBuf,
    /// Folder that stands for /proc for machine-wide CPU time and memory.
    #[arg(long, value_name = "DIR", env = crate::env::PROCFS_ROOT, default_value = "/proc", help_heading = "Measure")]
    pub procfs_root: PathBuf,
    /// Label the run (repeatable): --tag project=llm --tag experiment=7.
    #[arg(long = "tag", value_name = "KEY=VALUE", help_heading = "Measure")]
    pub tags: Vec<String>,
    /// Record every raw reading to FILE (JSON lines, flushed as it goes); an existing FILE is
    /// refused unless --force.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "replay",
        help_heading = "Trace"
    )]
    pub record: Option<PathBuf>,
    /// Let --record replace an existing trace.
    #[arg(long, requires = "record", help_heading = "Trace")]
    pub force: bool,
    /// Store the whole command line in the --record trace (default: the program name only, as
    /// arguments can hold secrets).
    #[arg(long, requires = "record", help_heading = "Trace")]
    pub record_command: bool,
    /// Compute the footprint from a recorded trace instead of running a command.
    #[arg(long, value_name = "FILE", help_heading = "Trace")]
    pub replay: Option<PathBuf>,
    /// Write the wattlens.footprint/v1 JSON object to FILE (stdout belongs to the command).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub json: Option<PathBuf>,
    /// Append a row to FILE in CodeCarbon's emissions.csv layout.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub csv: Option<PathBuf>,
    /// No live line and no summary on stderr; warnings and errors still print.
    #[arg(long, short, help_heading = "Output")]
    pub quiet: bool,
    /// Print the summary on stdout in this format once the command has ended (after its own
    /// output), instead of on stderr.
    #[arg(long, value_enum, value_name = "FORMAT", help_heading = "Output")]
    pub format: Option<SummaryFormat>,
    /// Exit 1 after the command when the P50 of total carbon exceeds this (kg; e.g. 20kg,
    /// 500g); the command's own failure exit code takes precedence.
    #[arg(long, value_name = "MASS", help_heading = "Budgets")]
    pub max_carbon: Option<String>,
    /// Exit 1 after the command when the P50 of facility energy exceeds this (kWh; e.g. 2kWh).
    #[arg(long, value_name = "ENERGY", help_heading = "Budgets")]
    pub max_energy: Option<String>,
    /// Monte Carlo samples for the ranges.
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub samples: Option<String>,
    /// Monte Carlo seed.
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub site: SiteArgs,
    /// The command and its arguments, passed untouched. Everything before `--` or before the
    /// command's first word that starts with `-` is a wattlens flag (a mistyped one is an
    /// error, never the command).
    #[arg(trailing_var_arg = true, value_name = "CMD", conflicts_with_all = ["pid", "replay"])]
    pub command: Vec<String>,
}

/// `plan window`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct PlanWindowArgs {
    /// How long the job runs (e.g. 4h, 90min; bare numbers are hours).
    #[arg(
        long,
        value_name = "DURATION",
        required_unless_present_any = ["jobs", "profile"],
        help_heading = "Job"
    )]
    pub duration: Option<String>,
    /// The job's constant IT power (W; e.g. 10kW, 8kW..12kW).
    #[arg(
        long,
        value_name = "POWER",
        required_unless_present_any = ["jobs", "profile"],
        help_heading = "Job"
    )]
    pub power: Option<String>,
    /// The earliest start (RFC 3339, any offset; default: the series' first timestamp). The
    /// baseline starts here.
    #[arg(long, value_name = "TIME", help_heading = "Job")]
    pub start: Option<String>,
    /// When the job must be done (RFC 3339; default: the series' end).
    #[arg(long, value_name = "TIME", help_heading = "Job")]
    pub deadline: Option<String>,
    /// The job may pause: it runs in whole intervals of the series, in chunks.
    #[arg(long, help_heading = "Job")]
    pub interruptible: bool,
    /// The shortest chunk of an interruptible job (default: one interval of the series).
    #[arg(
        long,
        value_name = "DURATION",
        requires = "interruptible",
        help_heading = "Job"
    )]
    pub min_chunk: Option<String>,
    /// The most pauses an interruptible job may take (default: no limit).
    #[arg(
        long,
        value_name = "N",
        requires = "interruptible",
        help_heading = "Job"
    )]
    pub max_pauses: Option<String>,
    /// A queue of jobs instead of one: CSV with the header name,duration,power,earliest,deadline
    /// (values with units, times in RFC 3339; empty earliest/deadline: the series' start/end).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["duration", "power", "start", "deadline"],
        help_heading = "Job"
    )]
    pub jobs: Option<PathBuf>,
    /// The job is the power profile of a recorded run: the JSON of `wattlens run --json`
    /// (instead of --duration and --power), scaled to its IT energy.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["duration", "power", "jobs"],
        help_heading = "Job"
    )]
    pub profile: Option<PathBuf>,
    /// Score the schedule (chosen on --series, a forecast) and the baseline on this realised
    /// series: the saving the plan really gave.
    #[arg(long, value_name = "FILE", help_heading = "Evaluate")]
    pub evaluate_on: Option<PathBuf>,
    /// The --evaluate-on column holding g/kWh (default g_per_kwh; e.g. actual in the NESO GB file).
    #[arg(
        long,
        value_name = "NAME",
        requires = "evaluate_on",
        help_heading = "Evaluate"
    )]
    pub evaluate_column: Option<String>,
    /// Print the `wattlens.plan/v1` JSON object.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// Leave out the table's chart of the intensity over the window (a single job's table only).
    #[arg(long, help_heading = "Output")]
    pub no_chart: bool,
    /// Monte Carlo samples when any input is a range.
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub samples: Option<String>,
    /// Monte Carlo seed.
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub site: SiteArgs,
}

/// Which optimal checkpoint interval `plan checkpoint` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum IntervalMethod {
    /// Daly (2006), higher order; what `estimate train` uses.
    Daly,
    /// Young (1974): sqrt(2 x write x MTBI).
    Young,
}

/// `plan checkpoint`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct CheckpointArgs {
    /// Job interruptions over the run (e.g. 466), with --days.
    #[arg(long, help_heading = "Failures")]
    pub interruptions: Option<String>,
    /// The run's wall-clock length (days; e.g. 54, 1296h).
    #[arg(long, help_heading = "Failures")]
    pub days: Option<String>,
    /// One device's mean time between failures instead of a count (hours; e.g. 50000, 5y),
    /// with --gpus: any device's failure stops the job.
    #[arg(long, help_heading = "Failures")]
    pub mtbf_per_device: Option<String>,
    /// Accelerators of the job (e.g. 16k).
    #[arg(long, help_heading = "Failures")]
    pub gpus: Option<String>,
    /// Time to write one checkpoint (minutes; e.g. 1, 40s).
    #[arg(long, help_heading = "Checkpoints")]
    pub checkpoint_minutes: Option<String>,
    /// Size of one checkpoint instead of a write time (GB; e.g. 2400, 2.4TB, 1PB, 2TiB), with
    /// --storage-bandwidth.
    #[arg(long, help_heading = "Checkpoints")]
    pub checkpoint_size: Option<String>,
    /// Write bandwidth of the checkpoint storage (GB/s; e.g. 100, 1TB/s, 400Gbit/s).
    #[arg(long, help_heading = "Checkpoints")]
    pub storage_bandwidth: Option<String>,
    /// Time from an interruption to training again (minutes).
    #[arg(long, help_heading = "Checkpoints")]
    pub restart_minutes: Option<String>,
    /// Asynchronous checkpoints: training stalls only for a snapshot (--stall-minutes) while
    /// the write goes on behind it.
    #[arg(long = "async", help_heading = "Checkpoints")]
    pub asynchronous: bool,
    /// How long training stalls for one asynchronous checkpoint (minutes; e.g. 5s; default 0).
    #[arg(long, help_heading = "Checkpoints")]
    pub stall_minutes: Option<String>,
    /// The optimal interval: daly (as estimate train) or young.
    #[arg(long, value_enum, default_value = "daly", help_heading = "Checkpoints")]
    pub method: IntervalMethod,
    #[command(flatten)]
    pub hw: HardwareArgs,
    #[command(flatten)]
    pub site: SiteArgs,
    /// Print the `wattlens.plan/v1` JSON object.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// Monte Carlo samples of the footprint lost when any site input is a range.
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub samples: Option<String>,
    /// Monte Carlo seed.
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub seed: Option<u64>,
}

/// `plan region`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct PlanRegionArgs {
    /// Candidate regions, comma-separated: grid keys, country codes or cloud regions (e.g.
    /// FR,PL,cn-northwest,cn-east; `wattlens catalog list grids` lists them).
    #[arg(long, value_name = "LIST", help_heading = "Plan")]
    pub regions: String,
    /// Data to move to the region (GB; e.g. 50TB, 800GB, 2TiB; B = byte, bit = bit).
    #[arg(long, value_name = "SIZE", help_heading = "Plan")]
    pub data: String,
    /// IT energy of the work (kWh; e.g. 100MWh, 80MWh..120MWh): the site's PUE is applied.
    #[arg(long, value_name = "ENERGY", help_heading = "Plan")]
    pub energy: String,
    /// How long the work runs once the data is there (hours; e.g. 48, 3d).
    #[arg(long, value_name = "DURATION", help_heading = "Plan")]
    pub hours: Option<String>,
    /// Link bandwidth for moving the data (Gbit/s; e.g. 10Gbps, 400Mbps, 1.25GB/s).
    #[arg(
        long,
        value_name = "RATE",
        default_value = "10Gbps",
        help_heading = "Plan"
    )]
    pub bandwidth: String,
    /// Network energy per GB moved (kWh/GB; e.g. 0.006kWh/GB, 2Wh/GB..15Wh/GB; default the
    /// catalog's network.kwh_per_gb).
    #[arg(long, value_name = "KWH_PER_GB", help_heading = "Plan")]
    pub network_intensity: Option<String>,
    /// Where the users or the data are (a country code, cloud region or grid key with a point in
    /// `wattlens catalog list locations`): adds each region's round-trip latency.
    #[arg(long, value_name = "REGION", help_heading = "Plan")]
    pub from: Option<String>,
    /// Power usage effectiveness of every candidate site (default: each region's operator
    /// profile, or the catalog default).
    #[arg(long, help_heading = "Site")]
    pub pue: Option<String>,
    /// Electricity price of every candidate site, for the cost (e.g. 0.12, 0.1EUR; default:
    /// each region's catalog price).
    #[arg(long, help_heading = "Site")]
    pub price: Option<String>,
    /// Print the `wattlens.plan/v1` JSON object.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// Monte Carlo samples when any input is a range.
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub samples: Option<String>,
    /// Monte Carlo seed.
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub seed: Option<u64>,
}

/// `plan renewable`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct PlanRenewableArgs {
    /// The site's renewable generation: CSV with the header timestamp,kw (RFC 3339 times on a
    /// fixed step), or a shipped forecast (dk1-wind-2024, dk1-solar-2024, dk2-wind-2024,
    /// dk2-solar-2024) with --capacity.
    #[arg(long, value_name = "FILE|NAME", help_heading = "Site supply")]
    pub supply: String,
    /// The peak output a shipped --supply is scaled to (e.g. 10MW): its 2024 peak hour gives it.
    #[arg(long, value_name = "POWER", help_heading = "Site supply")]
    pub capacity: Option<String>,
    /// The site's other, inflexible load, met first: a timestamp,kw CSV or a constant power
    /// (e.g. 2MW).
    #[arg(long, value_name = "FILE|POWER", help_heading = "Site supply")]
    pub other_load: Option<String>,
    /// A battery's usable capacity (e.g. 500kWh, 2MWh), with --round-trip.
    #[arg(
        long,
        value_name = "ENERGY",
        requires = "round_trip",
        help_heading = "Storage"
    )]
    pub storage: Option<String>,
    /// The battery's round-trip efficiency, in (0, 1] (e.g. 0.9).
    #[arg(long, value_name = "X", requires = "storage", help_heading = "Storage")]
    pub round_trip: Option<String>,
    /// The most the battery charges or discharges (e.g. 100kW; default: no limit).
    #[arg(
        long,
        value_name = "POWER",
        requires = "storage",
        help_heading = "Storage"
    )]
    pub storage_power: Option<String>,
    /// The flexible jobs: CSV with the header name,duration,power,earliest,deadline (as for
    /// plan window --jobs; earliest is the release, empty: the supply's start; empty deadline:
    /// its end).
    #[arg(long, value_name = "FILE", help_heading = "Jobs")]
    pub jobs: PathBuf,
    /// Print the `wattlens.plan/v1` JSON object.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// Monte Carlo samples of the carbon when the grid intensity is a range.
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub samples: Option<String>,
    /// Monte Carlo seed.
    #[arg(long, value_name = "N", help_heading = "Output")]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub site: SiteArgs,
}

/// The format of a run's summary (`run --format`) or a recorded report (`history show`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// The summary table `run` prints on stderr (an estimate: its terminal table).
    Table,
    /// A Markdown table.
    Markdown,
    /// The `wattlens.footprint/v1` JSON object, as `--json FILE` writes it.
    Json,
}

/// `wattlens history [list] ...`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub command: Option<HistoryCommand>,
    /// `history` alone lists.
    #[command(flatten)]
    pub list: HistoryListArgs,
}

/// `wattlens history ...`
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// The recorded runs and saved estimates, newest first.
    List(HistoryListArgs),
    /// One recorded report, as `run` or `estimate` printed it.
    Show {
        /// The ID (`history list` shows them).
        id: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: SummaryFormat,
        /// Print the JSON object (same as --format json).
        #[arg(long)]
        json: bool,
    },
    /// Two recorded reports figure by figure: A beside B, with the ratio A / B.
    Diff {
        /// The first ID.
        a: String,
        /// The second ID.
        b: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: SummaryFormat,
    },
    /// Every row the filters pick, with its full report.
    Export {
        /// csv (one line per row: the indexed columns) or json (an array: the columns and the
        /// full report).
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[command(flatten)]
        filter: HistoryFilterArgs,
        /// At most N rows, the newest (default: all).
        #[arg(long, value_name = "N")]
        limit: Option<String>,
    },
    /// Remove one row.
    Rm {
        /// The ID.
        id: String,
    },
}

/// `history list`.
#[derive(Debug, Args)]
pub struct HistoryListArgs {
    #[command(flatten)]
    pub filter: HistoryFilterArgs,
    /// At most N rows, the newest; 0 for all.
    #[arg(long, value_name = "N", default_value = "20")]
    pub limit: String,
    /// Print a JSON array.
    #[arg(long)]
    pub json: bool,
}

/// The filters of `history list` and `history export`.
#[derive(Debug, Args)]
pub struct HistoryFilterArgs {
    /// Rows started since TIME: RFC 3339 (2026-11-01T00:00:00Z) or a duration back from now
    /// (30d, 12h, 90min).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Rows with this tag (repeatable: all must match).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Only runs or only saved estimates.
    #[arg(long, value_enum)]
    pub kind: Option<HistoryKind>,
}

/// What a history row records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum HistoryKind {
    /// `wattlens run`.
    Run,
    /// `wattlens estimate ... --save`.
    Estimate,
}

/// `history export --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// CSV, one line per row.
    Csv,
    /// A JSON array.
    Json,
}
/// `wattlens config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a commented default config file (`[site]` and `[agent]`) to stdout.
    Init,
}

/// `wattlens agent`: flags win over the config file's `[agent]` table.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Address to serve /metrics, /healthz and / on [default: 127.0.0.1:9877; loopback
    /// unless said otherwise].
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Time between polls of the sources [default: 1s].
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,
    /// Folder that stands for /sys (RAPL, hwmon) [default: /sys].
    #[arg(long, value_name = "DIR", env = crate::env::SYSFS_ROOT)]
    pub sysfs_root: Option<PathBuf>,
    /// Folder that stands for /proc (machine CPU time and memory, command names) [default:
    /// /proc].
    #[arg(long, value_name = "DIR", env = crate::env::PROCFS_ROOT)]
    pub procfs_root: Option<PathBuf>,
    /// The cgroup (v2) root whose cgroups are the workloads [default: /sys/fs/cgroup].
    #[arg(long, value_name = "DIR")]
    pub cgroup_root: Option<PathBuf>,
    /// A file holding a bearer token that /metrics and / then require.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The kubelet's pod log folder (`<namespace>_<pod>_<uid>` folders), for the pods'
    /// namespace and name labels [default: /var/log/pods].
    #[arg(long, value_name = "DIR")]
    pub pod_logs_root: Option<PathBuf>,
    /// The kubelet's container log links (`<pod>_<namespace>_<name>-<id>.log`), for the
    /// containers' `container_name` label [default: /var/log/containers].
    #[arg(long, value_name = "DIR")]
    pub container_logs_root: Option<PathBuf>,
    /// A file naming pods by UID (TOML or JSON: "<uid>" -> {namespace, name}; or `kubectl get
    /// pods -o json`), read again when it changes; it wins over the pod log folder.
    #[arg(long, value_name = "FILE")]
    pub pod_labels: Option<PathBuf>,
    /// Rated power of all the machine's CPUs, for the modelled CPU when RAPL is absent (W).
    #[arg(long, value_name = "POWER")]
    pub cpu_tdp: Option<String>,
    /// Site: grid, intensity, PUE, water for the carbon and water counters.
    #[command(flatten)]
    pub site: SiteArgs,
}
