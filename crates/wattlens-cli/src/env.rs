//! Environment variables wattlens reads, each declared once.

/// Path of a user catalog TOML file (same as `--catalog`).
pub const CATALOG: &str = "WATTLENS_CATALOG";
/// Path of a config TOML file (same as `--config`).
pub const CONFIG: &str = "WATTLENS_CONFIG";
