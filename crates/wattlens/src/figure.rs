//! The registry of figures: every number a result can hold (energy, carbon, water, cost, a
//! model's own figures, IT energy by component, equivalents) as one [`Figure`] variant with its
//! serialised key, its label and how it is shown. Record columns, renderers and the JSON and CSV
//! names all derive from it; a figure's key is text only at (de)serialisation.

/// How a figure is shown: its base unit and how to scale it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scale {
    /// kWh, shown as mWh/Wh/kWh/MWh/GWh/TWh.
    Energy,
    /// kgCO2e, shown as mg/g/kg/t/kt/Mt.
    Mass,
    /// litres, shown as mL/L/m3.
    Water,
    /// kW, shown as W/kW/MW/GW.
    Power,
    /// A fraction, shown in percent.
    Percent,
    /// A plain number with a fixed unit (`""`: none, or the currency for the cost).
    Plain(&'static str),
    /// A count of things (servers, accelerators, requests, tokens), no unit.
    Count,
}

impl Scale {
    /// The unit the figure's value is held in.
    #[must_use]
    pub fn base_unit(self) -> &'static str {
        match self {
            Scale::Energy => "kWh",
            Scale::Mass => "kgCO2e",
            Scale::Water => "L",
            Scale::Power => "kW",
            Scale::Percent => "fraction",
            Scale::Plain(u) => u,
            Scale::Count => "",
        }
    }
}

/// What part of a result a figure belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Group {
    /// A figure of the table (the footprint and a model's own figures).
    Table,
    /// IT energy of one component (kWh).
    Component,
    /// An everyday equivalent.
    Equivalent,
}

macro_rules! figures {
    ($($(#[$doc:meta])* $v:ident => ($key:literal, $label:literal, $scale:expr, $group:ident),)*) => {
        /// A figure of a result. The order of the variants is the display order of the table.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Figure {
            $($(#[$doc])* $v,)*
        }

        impl Figure {
            /// Every figure, in display order.
            pub const ALL: &'static [Figure] = &[$(Figure::$v,)*];

            /// The serialised name (JSON key, CSV `figure` column): `facility_energy_kwh`.
            #[must_use]
            pub const fn key(self) -> &'static str {
                match self {
                    $(Figure::$v => $key,)*
                }
            }

            /// The label in a table (`facility energy`).
            #[must_use]
            pub const fn label(self) -> &'static str {
                match self {
                    $(Figure::$v => $label,)*
                }
            }

            /// How it is shown.
            #[must_use]
            pub const fn scale(self) -> Scale {
                match self {
                    $(Figure::$v => $scale,)*
                }
            }

            /// Which part of a result it belongs to.
            #[must_use]
            pub const fn group(self) -> Group {
                match self {
                    $(Figure::$v => Group::$group,)*
                }
            }
        }
    };
}

figures! {
    /// IT energy, kWh.
    ItEnergy => ("it_energy_kwh", "IT energy", Scale::Energy, Table),
    /// Facility energy (IT x PUE), kWh.
    FacilityEnergy => ("facility_energy_kwh", "facility energy", Scale::Energy, Table),
    /// Facility energy per day, kWh.
    EnergyPerDay => ("energy_kwh_per_day", "facility energy per day", Scale::Energy, Table),
    /// Facility energy per year, kWh.
    EnergyPerYear => ("energy_kwh_per_year", "facility energy per year", Scale::Energy, Table),
    /// Operational (location-based) plus embodied carbon, kgCO2e.
    Carbon => ("carbon_kgco2e", "carbon (operational + embodied)", Scale::Mass, Table),
    /// Operational carbon, location-based, kgCO2e.
    OperationalCarbon => ("operational_carbon_kgco2e", "operational carbon, location-based", Scale::Mass, Table),
    /// Operational carbon, market-based, kgCO2e.
    MarketCarbon => ("market_carbon_kgco2e", "operational carbon, market-based", Scale::Mass, Table),
    /// Embodied carbon of the hardware for the busy time, kgCO2e.
    EmbodiedCarbon => ("embodied_carbon_kgco2e", "embodied carbon", Scale::Mass, Table),
    /// Water consumed, on-site plus off-site, L.
    Water => ("water_l", "water consumed", Scale::Water, Table),
    /// On-site (cooling) water, L.
    OnsiteWater => ("onsite_water_l", "  on-site (cooling)", Scale::Water, Table),
    /// Off-site (electricity generation) water, L.
    OffsiteWater => ("offsite_water_l", "  off-site (electricity)", Scale::Water, Table),
    /// Electricity cost, in the result's currency.
    Cost => ("cost", "electricity cost", Scale::Plain(""), Table),
    /// Power usage effectiveness.
    Pue => ("pue", "PUE", Scale::Plain(""), Table),
    /// IT power, kW.
    ItPower => ("it_power_kw", "IT power", Scale::Power, Table),
    /// Facility power, kW.
    FacilityPower => ("facility_power_kw", "facility power", Scale::Power, Table),
    /// Cooling energy of a data centre, kWh.
    CoolingEnergy => ("cooling_energy_kwh", "cooling energy", Scale::Energy, Table),
    /// Power conversion energy of a data centre, kWh.
    PowerConversionEnergy => ("power_conversion_energy_kwh", "power conversion energy", Scale::Energy, Table),
    /// Other facility energy of a data centre, kWh.
    OtherEnergy => ("other_energy_kwh", "other facility energy", Scale::Energy, Table),
    /// Servers.
    Servers => ("servers", "servers", Scale::Count, Table),
    /// Accelerators.
    Accelerators => ("accelerators", "accelerators", Scale::Count, Table),
    /// Requests covered by an inference estimate.
    Requests => ("requests", "requests covered", Scale::Count, Table),
    /// Facility energy per request, Wh.
    EnergyPerRequest => ("energy_wh_per_request", "facility energy per request", Scale::Plain("Wh"), Table),
    /// IT energy per request, Wh.
    ItEnergyPerRequest => ("it_energy_wh_per_request", "  IT energy per request", Scale::Plain("Wh"), Table),
    /// Accelerator energy per request, Wh.
    AcceleratorEnergyPerRequest => ("accelerator_energy_wh_per_request", "  accelerator energy per request", Scale::Plain("Wh"), Table),
    /// Carbon per request, gCO2e.
    CarbonPerRequest => ("carbon_g_per_request", "carbon per request", Scale::Plain("gCO2e"), Table),
    /// Water per request, mL.
    WaterPerRequest => ("water_ml_per_request", "water per request", Scale::Plain("mL"), Table),
    /// Facility energy per 1,000 output tokens, Wh.
    EnergyPer1kTokens => ("energy_wh_per_1k_tokens", "facility energy per 1,000 output tokens", Scale::Plain("Wh"), Table),
    /// Accelerator energy per output token, J.
    AcceleratorEnergyPerToken => ("accelerator_energy_j_per_token", "accelerator energy per output token", Scale::Plain("J"), Table),
    /// Output tokens per request.
    OutputTokens => ("output_tokens", "output tokens per request", Scale::Count, Table),
    /// Memory per replica, GB.
    Memory => ("memory_gb", "memory per replica", Scale::Plain("GB"), Table),
    /// Latency of a request, s.
    Latency => ("latency_s", "latency of a request", Scale::Plain("s"), Table),
    /// Time per output token, ms.
    TimePerOutputToken => ("time_per_output_token_ms", "time per output token", Scale::Plain("ms"), Table),
    /// Output tokens per second per replica.
    Throughput => ("throughput_tokens_per_s", "output tokens per second per replica", Scale::Plain("tokens/s"), Table),
    /// Accelerators busy for a request rate.
    FleetAccelerators => ("fleet_accelerators", "accelerators busy for the request rate", Scale::Count, Table),
    /// Training compute, FLOP.
    Compute => ("compute_flop", "compute", Scale::Plain("FLOP"), Table),
    /// Wall-clock duration, days.
    Duration => ("duration_days", "duration", Scale::Plain("days"), Table),
    /// Accelerator-hours.
    AcceleratorHours => ("accelerator_hours", "accelerator-hours", Scale::Plain("h"), Table),
    /// Model FLOP utilisation implied by a given duration.
    ImpliedMfu => ("implied_mfu", "implied MFU", Scale::Plain(""), Table),
    /// Fraction of wall time lost to failures.
    LostTimeFraction => ("lost_time_fraction", "time lost to failures", Scale::Percent, Table),
    /// Mean time between interruptions, h.
    MeanTimeBetweenInterruptions => ("mean_time_between_interruptions_hours", "mean time between interruptions", Scale::Plain("h"), Table),
    /// Checkpoint interval, minutes.
    CheckpointInterval => ("checkpoint_interval_minutes", "checkpoint interval", Scale::Plain("min"), Table),
    /// Demand for the service relative to the base year of a trajectory (rebound included).
    DemandIndex => ("demand_index", "demand index (base year = 1)", Scale::Plain(""), Table),
    /// Energy per unit of service relative to the base year of a trajectory.
    EnergyPerUnitIndex => ("energy_per_unit_index", "energy per unit of service index (base year = 1)", Scale::Plain(""), Table),
    /// A trajectory's effective yearly growth of energy, `(1 + X)(1 - Y)^(1 - E) - 1`.
    EnergyGrowthRate => ("energy_growth_rate", "effective energy growth per year", Scale::Percent, Table),
    /// A trajectory year's location-based operational carbon on the decarbonising grid, kgCO2e.
    TrajectoryCarbon => ("trajectory_carbon_kgco2e", "operational carbon on the decarbonising grid", Scale::Mass, Table),
    /// Facility energy of a trajectory from its base year to this year, kWh.
    CumulativeEnergy => ("cumulative_energy_kwh", "facility energy since the base year", Scale::Energy, Table),
    /// Operational carbon of a trajectory from its base year to this year, kgCO2e.
    CumulativeCarbon => ("cumulative_carbon_kgco2e", "operational carbon since the base year", Scale::Mass, Table),
    /// Water of a trajectory from its base year to this year, L.
    CumulativeWater => ("cumulative_water_l", "water since the base year", Scale::Water, Table),
    /// IT energy of the accelerators (an estimate's component), kWh.
    ComponentAccelerators => ("component.accelerators", "accelerators", Scale::Energy, Component),
    /// IT energy of host CPUs and memory (an estimate's component), kWh.
    ComponentHost => ("component.host", "host CPU and memory", Scale::Energy, Component),
    /// IT energy of the rest of the server, kWh.
    ComponentRest => ("component.rest", "rest of server", Scale::Energy, Component),
    /// Measured CPU energy (active), kWh.
    ComponentCpu => ("component.cpu", "CPU (active)", Scale::Energy, Component),
    /// Measured CPU energy (idle share), kWh.
    ComponentCpuIdle => ("component.cpu_idle", "CPU (idle share)", Scale::Energy, Component),
    /// Measured DRAM energy, kWh.
    ComponentDram => ("component.dram", "memory (DRAM)", Scale::Energy, Component),
    /// Measured GPU energy, kWh.
    ComponentGpu => ("component.gpu", "GPUs", Scale::Energy, Component),
    /// US homes powered for the same period.
    EqUsHomes => ("eq.us_homes", "US homes powered for the same period (facility energy)", Scale::Plain("homes"), Equivalent),
    /// Kilometres driven by an average passenger car.
    EqCarKm => ("eq.car_km", "kilometres driven by an average passenger car (total carbon)", Scale::Plain("km"), Equivalent),
    /// Smartphone charges with the same CO2.
    EqPhoneCharges => ("eq.phone_charges", "smartphone charges with the same CO2 (total carbon)", Scale::Plain("charges"), Equivalent),
    /// Share of a country's annual electricity generation.
    EqCountryShare => ("eq.country_share", "share of a country's annual electricity generation (annualised facility energy)", Scale::Plain("fraction"), Equivalent),
}

impl Figure {
    /// The figure serialised as `key`, if any (for reading results back).
    #[must_use]
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.key() == key)
    }

    /// The base unit of its value (`kWh`, `kgCO2e`, `h` ...; empty for counts and ratios).
    #[must_use]
    pub fn unit(self) -> &'static str {
        self.scale().base_unit()
    }

    /// The figures of the table, in display order.
    pub fn table() -> impl Iterator<Item = Figure> {
        Self::ALL
            .iter()
            .copied()
            .filter(|f| f.group() == Group::Table)
    }
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

impl serde::Serialize for Figure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl<'de> serde::Deserialize<'de> for Figure {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let k = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_key(&k)
            .ok_or_else(|| serde::de::Error::custom(format_args!("unknown figure {k:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_read_back() {
        let mut keys: Vec<&str> = Figure::ALL.iter().map(|f| f.key()).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "a key is used twice");
        for f in Figure::ALL {
            assert_eq!(Figure::from_key(f.key()), Some(*f));
        }
        assert_eq!(Figure::from_key("energy"), None);
        assert_eq!(
            serde_json::to_string(&Figure::FacilityEnergy)
                .ok()
                .as_deref(),
            Some(r#""facility_energy_kwh""#)
        );
    }

    #[test]
    fn groups_follow_the_key_prefixes() {
        for f in Figure::ALL {
            let want = if f.key().starts_with("component.") {
                Group::Component
            } else if f.key().starts_with("eq.") {
                Group::Equivalent
            } else {
                Group::Table
            };
            assert_eq!(f.group(), want, "{f}");
        }
        assert_eq!(Figure::table().count(), 48);
        assert_eq!(Figure::ComponentHost.unit(), "kWh");
    }
}
