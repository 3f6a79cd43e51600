//! Environment variables wattlens reads, each declared once.

/// Path of a user catalog TOML file (same as `--catalog`).
pub const CATALOG: &str = "WATTLENS_CATALOG";
/// Path of a config TOML file (same as `--config`).
pub const CONFIG: &str = "WATTLENS_CONFIG";
/// Folder that stands for `/sys` in `wattlens run` (same as `--sysfs-root`), for containers that
/// mount the host's `/sys` elsewhere.
pub const SYSFS_ROOT: &str = "WATTLENS_SYSFS_ROOT";
/// Folder that stands for `/proc` for machine-wide figures in `wattlens run` (same as
/// `--procfs-root`).
pub const PROCFS_ROOT: &str = "WATTLENS_PROCFS_ROOT";
/// GPUs the measured command may use; `wattlens run` charges only those (read, never set).
pub const CUDA_VISIBLE_DEVICES: &str = "CUDA_VISIBLE_DEVICES";
/// AMD GPUs the measured command may use, as ROCm numbers them (Slurm sets it); `wattlens run`
/// charges only those (read, never set).
pub const ROCR_VISIBLE_DEVICES: &str = "ROCR_VISIBLE_DEVICES";
/// AMD GPUs HIP may use, as indices into what `ROCR_VISIBLE_DEVICES` left (read, never set).
pub const HIP_VISIBLE_DEVICES: &str = "HIP_VISIBLE_DEVICES";
/// Set by `wattlens run --marks` for the measured command: the file it appends `begin NAME`
/// and `end NAME` lines to, each cutting a measured window.
pub const WATTLENS_MARKS: &str = "WATTLENS_MARKS";
/// Path of the run history ledger (same as `--history`).
pub const HISTORY: &str = "WATTLENS_HISTORY";
/// Test only: milliseconds a ledger write sleeps between BEGIN and COMMIT (after saying so on
/// stderr), so that a test can kill a writer mid-transaction.
pub const TEST_LEDGER_PAUSE_MS: &str = "WATTLENS_TEST_LEDGER_PAUSE_MS";
/// Test only: a TOML file of NVIDIA GPUs (counters, processes, utilisation, MIG instances;
/// `wattlens::source::nvml_fixture`) that `wattlens agent` reads instead of the driver, so that
/// the GPU split is tested end to end without a GPU (said on stderr when used).
pub const TEST_NVML: &str = "WATTLENS_TEST_NVML";
