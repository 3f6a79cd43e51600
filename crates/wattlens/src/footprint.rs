//! The accounting core: IT energy to facility energy, carbon, water and cost, the same way for
//! measured and estimated energy.
//!
//! Definitions (DESIGN.md, kept exact):
//! - `E_fac = E_it x PUE`
//! - operational carbon, location-based: `E_fac x CI_grid`; market-based: `E_fac x CI_market`
//! - embodied carbon: per device `embodied_kgCO2e x busy time / service life`
//! - water: on-site `E_it x WUE` + off-site `E_fac x EWIF`
//! - cost: `E_fac x price`

use crate::explain::{Step, StepSink};
use crate::figure::Figure;
use crate::record::Record;
use crate::uncertainty::{fmt_input, Draw, Range};
use crate::units::{GramsPerKwh, Hours, KgCo2e, KilowattHours, LitresPerKwh, HOURS_PER_YEAR};

/// A site parameter with where it came from, for explanations.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The value or range, in the unit of the field that holds it.
    pub range: Range,
    /// Source and year, or "--flag".
    pub source: String,
}

/// A default coefficient of the catalog (`rest.share`) as a parameter scaled by `scale`,
/// recording the assumption under `name`: the one lookup that estimates and measurements share.
///
/// # Errors
/// If the key is missing from the defaults table.
pub(crate) fn catalog_coefficient(
    cat: &crate::catalog::Catalog,
    key: &str,
    name: &str,
    scale: f64,
    out: &mut Vec<crate::explain::Assumption>,
) -> Result<Param, crate::catalog::CatalogError> {
    let c = cat.coefficient(key)?;
    let r = c.range().scale(scale);
    let src = crate::catalog::Row::cite(c);
    out.push(crate::explain::Assumption {
        name: name.into(),
        value: c.range().display(c.unit.as_deref().unwrap_or("")),
        origin: crate::explain::Origin::Default,
        source: Some(format!("{key}: {src}")),
    });
    Ok(Param::new(r, src))
}

impl Param {
    /// A parameter from a value and a source.
    #[must_use]
    pub fn new(range: Range, source: impl Into<String>) -> Self {
        Self {
            range,
            source: source.into(),
        }
    }
}

/// Embodied-carbon inputs for the hardware a workload keeps busy.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbodiedSpec {
    /// Embodied carbon per accelerator card, kgCO2e.
    pub per_accelerator_kg: Param,
    /// Embodied carbon per server excluding its accelerators, kgCO2e.
    pub per_server_kg: Param,
    /// Service life over which embodied carbon is amortised, hours.
    pub service_life_h: Param,
}

/// Everything about where the energy is used: the data centre and the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    /// Power usage effectiveness.
    pub pue: Param,
    /// Location-based carbon intensity, g/kWh.
    pub intensity: Param,
    /// Scope of the location-based intensity (direct/lifecycle, CO2/CO2e), for the output.
    pub intensity_scope: String,
    /// Market-based intensity, g/kWh, when the user knows their contractual factor.
    pub market_intensity: Option<Param>,
    /// On-site water usage effectiveness, L per kWh of IT energy.
    pub wue: Param,
    /// Water consumed per kWh generated, L per kWh of facility energy.
    pub ewif: Param,
    /// Electricity price per kWh.
    pub price: Param,
    /// ISO 4217 currency of `price`.
    pub currency: String,
    /// Embodied-carbon inputs.
    pub embodied: EmbodiedSpec,
    /// Annual electricity of the country used for the "share of a country" equivalent, kWh.
    pub country_annual_kwh: Option<(String, f64)>,
    /// US home annual electricity, kWh (equivalents).
    pub home_kwh_per_year: Param,
    /// Passenger car emissions, g CO2 per km (equivalents).
    pub car_g_per_km: Param,
    /// CO2 of one smartphone charge, g (equivalents, the US EPA's own measure).
    pub phone_charge_g: Param,
}

/// IT energy of one evaluation, split by component.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ItEnergy {
    /// Accelerators.
    pub accelerators: KilowattHours,
    /// Host CPUs and memory.
    pub host: KilowattHours,
    /// Rest of the server: fans, NICs, storage, power conversion inside the server.
    pub rest: KilowattHours,
}

impl ItEnergy {
    /// Sum of the components.
    #[must_use]
    pub fn total(&self) -> KilowattHours {
        self.accelerators + self.host + self.rest
    }
}

/// The hardware kept busy, for embodied carbon and per-period equivalents.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Busy {
    /// Number of accelerators.
    pub accelerators: f64,
    /// Number of servers.
    pub servers: f64,
    /// How long they were busy (the period the energy covers).
    pub period: Hours,
}

/// An estimate's components of IT energy, in output order, with their kind.
pub const COMPONENTS: [(Figure, crate::energy::ComponentKind); 3] = [
    (
        Figure::ComponentAccelerators,
        crate::energy::ComponentKind::Accelerator,
    ),
    (Figure::ComponentHost, crate::energy::ComponentKind::Host),
    (Figure::ComponentRest, crate::energy::ComponentKind::Server),
];

/// Turns one evaluation's IT energy into the footprint and puts every figure in `rec`;
/// returns the facility energy for the model's own figures (facility power, energy per day).
pub fn account<T: StepSink>(
    site: &Site,
    d: &mut Draw,
    t: &mut T,
    it: &ItEnergy,
    busy: &Busy,
    rec: &mut Record<'_>,
) -> KilowattHours {
    let pue = d.value(&site.pue.range);
    let ci = GramsPerKwh(d.value(&site.intensity.range));
    let market = site
        .market_intensity
        .as_ref()
        .map(|m| GramsPerKwh(d.value(&m.range)));
    let wue = LitresPerKwh(d.value(&site.wue.range));
    let ewif = LitresPerKwh(d.value(&site.ewif.range));
    let price = d.value(&site.price.range);
    let emb_acc = d.value(&site.embodied.per_accelerator_kg.range);
    let emb_srv = d.value(&site.embodied.per_server_kg.range);
    let life = Hours(d.value(&site.embodied.service_life_h.range));
    let home = d.value(&site.home_kwh_per_year.range);
    let car = d.value(&site.car_g_per_km.range);
    let phone = d.value(&site.phone_charge_g.range);

    let e_it = it.total();
    t.step(|| {
        Step::new(
            "it_energy",
            format!(
                "E_it = accelerators + host + rest = {} + {} + {} kWh",
                fmt_input(it.accelerators.0),
                fmt_input(it.host.0),
                fmt_input(it.rest.0)
            ),
            e_it.0,
            "kWh",
        )
    });
    let e_fac = e_it * pue;
    t.step(|| {
        Step::new(
            "facility_energy",
            format!(
                "E_fac = E_it x PUE = {} kWh x {}",
                fmt_input(e_it.0),
                fmt_input(pue)
            ),
            e_fac.0,
            "kWh",
        )
        .source(site.pue.source.clone())
    });
    let op = KgCo2e::from(e_fac * ci);
    t.step(|| {
        Step::new(
            "operational_carbon",
            format!(
                "C_op = E_fac x CI_location = {} kWh x {} g/kWh ({})",
                fmt_input(e_fac.0),
                fmt_input(ci.0),
                site.intensity_scope
            ),
            op.0,
            "kgCO2e",
        )
        .source(site.intensity.source.clone())
    });
    let market_kg = market.map(|m| KgCo2e::from(e_fac * m));
    if let (Some(m), Some(kg), Some(p)) = (market, market_kg, site.market_intensity.as_ref()) {
        t.step(|| {
            Step::new(
                "market_carbon",
                format!(
                    "C_market = E_fac x CI_market = {} kWh x {} g/kWh",
                    fmt_input(e_fac.0),
                    fmt_input(m.0)
                ),
                kg.0,
                "kgCO2e",
            )
            .source(p.source.clone())
        });
    }
    let share = if life.0 > 0.0 {
        busy.period.0 / life.0
    } else {
        0.0
    };
    let embodied = KgCo2e((busy.accelerators * emb_acc + busy.servers * emb_srv) * share);
    t.step(|| {
        Step::new(
            "embodied_carbon",
            format!(
                "C_emb = (N_acc x {} kg + N_srv x {} kg) x t_busy / life = ({} x {} + {} x {}) x {} h / {} h",
                fmt_input(emb_acc),
                fmt_input(emb_srv),
                fmt_input(busy.accelerators),
                fmt_input(emb_acc),
                fmt_input(busy.servers),
                fmt_input(emb_srv),
                fmt_input(busy.period.0),
                fmt_input(life.0)
            ),
            embodied.0,
            "kgCO2e",
        )
        .source(format!(
            "{}; {}; {}",
            site.embodied.per_accelerator_kg.source,
            site.embodied.per_server_kg.source,
            site.embodied.service_life_h.source
        ))
    });
    let onsite = e_it * wue;
    t.step(|| {
        Step::new(
            "onsite_water",
            format!(
                "W_site = E_it x WUE = {} kWh x {} L/kWh",
                fmt_input(e_it.0),
                fmt_input(wue.0)
            ),
            onsite.0,
            "L",
        )
        .source(site.wue.source.clone())
    });
    let offsite = e_fac * ewif;
    t.step(|| {
        Step::new(
            "offsite_water",
            format!(
                "W_source = E_fac x EWIF = {} kWh x {} L/kWh",
                fmt_input(e_fac.0),
                fmt_input(ewif.0)
            ),
            offsite.0,
            "L",
        )
        .source(site.ewif.source.clone())
    });
    let cost = e_fac.0 * price;
    t.step(|| {
        Step::new(
            "cost",
            format!(
                "cost = E_fac x price = {} kWh x {} {}/kWh",
                fmt_input(e_fac.0),
                fmt_input(price),
                site.currency
            ),
            cost,
            &site.currency,
        )
        .source(site.price.source.clone())
    });

    rec.put(Figure::ItEnergy, e_it.0);
    rec.put(Figure::FacilityEnergy, e_fac.0);
    rec.put(Figure::Carbon, op.0 + embodied.0);
    rec.put(Figure::OperationalCarbon, op.0);
    if let Some(m) = market_kg {
        rec.put(Figure::MarketCarbon, m.0);
    }
    rec.put(Figure::EmbodiedCarbon, embodied.0);
    rec.put(Figure::Water, onsite.0 + offsite.0);
    rec.put(Figure::OnsiteWater, onsite.0);
    rec.put(Figure::OffsiteWater, offsite.0);
    rec.put(Figure::Cost, cost);
    rec.put(Figure::ComponentAccelerators, it.accelerators.0);
    rec.put(Figure::ComponentHost, it.host.0);
    rec.put(Figure::ComponentRest, it.rest.0);

    // Equivalents.
    let years = busy.period.0 / HOURS_PER_YEAR;
    if years > 0.0 {
        rec.put(Figure::EqUsHomes, e_fac.0 / (home * years));
    }
    rec.put(Figure::EqCarKm, (op.0 + embodied.0) * 1000.0 / car);
    rec.put(Figure::EqPhoneCharges, (op.0 + embodied.0) * 1000.0 / phone);
    if let (Some((_, annual)), true) = (&site.country_annual_kwh, years > 0.0) {
        rec.put(Figure::EqCountryShare, e_fac.0 / years / annual);
    }
    e_fac
}

/// A fixed site for unit tests of the models.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn p(v: f64) -> Param {
        Param::new(Range::point(v), "test")
    }

    /// PUE 1.5, 400 g/kWh (market 100), WUE 0.5, EWIF 2, 0.1 USD/kWh, 150/1000 kg over 4 y.
    pub(crate) fn site() -> Site {
        Site {
            pue: p(1.5),
            intensity: p(400.0),
            intensity_scope: "test".into(),
            market_intensity: Some(p(100.0)),
            wue: p(0.5),
            ewif: p(2.0),
            price: p(0.1),
            currency: "USD".into(),
            embodied: EmbodiedSpec {
                per_accelerator_kg: p(150.0),
                per_server_kg: p(1000.0),
                service_life_h: p(4.0 * 8760.0),
            },
            country_annual_kwh: None,
            home_kwh_per_year: p(10_000.0),
            car_g_per_km: p(250.0),
            phone_charge_g: p(12.4),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::site;
    use super::*;
    use crate::explain::NoTrace;

    #[test]
    fn accounting_follows_the_definitions() {
        let it = ItEnergy {
            accelerators: KilowattHours(1.5),
            host: KilowattHours(0.3),
            rest: KilowattHours(0.2),
        };
        let busy = Busy {
            accelerators: 8.0,
            servers: 1.0,
            period: Hours(8760.0),
        };
        let mut rec = Record::central();
        let _ = account(
            &site(),
            &mut Draw::Central { uncertain: 0 },
            &mut NoTrace,
            &it,
            &busy,
            &mut rec,
        );
        let f: std::collections::HashMap<_, _> = rec
            .into_points()
            .into_iter()
            .map(|(k, p)| (k, p.p50))
            .collect();
        // 2 kWh x 1.5 = 3 kWh
        assert_eq!(f[&Figure::FacilityEnergy], 3.0);
        // 3 kWh x 400 g/kWh = 1.2 kg
        assert!((f[&Figure::OperationalCarbon] - 1.2).abs() < 1e-12);
        // 3 kWh x 100 g/kWh = 0.3 kg
        assert!((f[&Figure::MarketCarbon] - 0.3).abs() < 1e-12);
        // (8 x 150 + 1 x 1000) kg x 1 y / 4 y = 550 kg
        assert!((f[&Figure::EmbodiedCarbon] - 550.0).abs() < 1e-9);
        // on-site 2 kWh x 0.5 = 1 L; off-site 3 kWh x 2 = 6 L
        assert_eq!(f[&Figure::OnsiteWater], 1.0);
        assert_eq!(f[&Figure::OffsiteWater], 6.0);
        assert_eq!(f[&Figure::Water], 7.0);
        // 3 kWh x 0.1 = 0.3
        assert!((f[&Figure::Cost] - 0.3).abs() < 1e-12);
        // 3 kWh over one year / 10,000 kWh per home-year
        assert!((f[&Figure::EqUsHomes] - 3e-4).abs() < 1e-12);
    }
}
