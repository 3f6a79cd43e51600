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
use crate::uncertainty::{fmt_input, Draw, Range, UnitRange};
use crate::units::{GramsPerKwh, Hours, KgCo2e, KilowattHours, Litres, LitresPerKwh};

/// A site parameter with where it came from, for explanations.
#[derive(Clone, Debug, PartialEq)]
pub struct Param<R = Range> {
    /// The value or range, in the unit of the field that holds it (typed where the field is:
    /// `Param<UnitRange<GramsPerKwh>>`).
    pub range: R,
    /// Source and year, or the field the user gave it through as a template (`{pue}`).
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
        field: None,
    });
    Ok(Param::new(r, src))
}

impl<R> Param<R> {
    /// A parameter from a value and a source.
    #[must_use]
    pub fn new(range: R, source: impl Into<String>) -> Self {
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
    /// Location-based carbon intensity (annual; with [`Site::series`], the central
    /// evaluation's, for display).
    pub intensity: Param<UnitRange<GramsPerKwh>>,
    /// Scope of the location-based intensity (direct/lifecycle, CO2/CO2e), for the output.
    pub intensity_scope: String,
    /// Market-based intensity, when the user knows their contractual factor.
    pub market_intensity: Option<Market>,
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
    /// Intensity over time, when a series covers the work: each evaluation's location-based
    /// intensity is then the series integrated over that evaluation's own span, not `intensity`
    /// (which holds the central evaluation's value, for display).
    pub series: Option<SeriesBasis>,
}

/// A site's intensity over time ([`Site::series`]).
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesBasis {
    /// The series placed at the start of the work.
    pub placed: crate::grid::PlacedSeries,
}

/// A market-based intensity: a contractual figure of its own, or a share of the location-based
/// intensity (`1 - CFE`) that follows each evaluation's location intensity.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Market {
    /// An intensity of its own.
    Intensity(Param<UnitRange<GramsPerKwh>>),
    /// A share of the location-based intensity, `1 - CFE` (a fraction).
    ShareOfLocation(Param),
}

impl Market {
    /// Where the figure comes from.
    #[must_use]
    pub fn source(&self) -> &str {
        match self {
            Market::Intensity(p) => &p.source,
            Market::ShareOfLocation(p) => &p.source,
        }
    }
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

/// One draw of a site's values: what the accounting multiplies IT energy by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SiteValues {
    /// Power usage effectiveness.
    pub pue: f64,
    /// Location-based intensity.
    pub intensity: GramsPerKwh,
    /// Market-based intensity, when the site has one.
    pub market_intensity: Option<GramsPerKwh>,
    /// On-site water per kWh of IT energy.
    pub wue: LitresPerKwh,
    /// Off-site water per kWh of facility energy.
    pub ewif: LitresPerKwh,
    /// Price per kWh of facility energy, in the site's currency.
    pub price: f64,
    /// Embodied carbon per accelerator, kgCO2e.
    pub per_accelerator_kg: f64,
    /// Embodied carbon per server, kgCO2e.
    pub per_server_kg: f64,
    /// Service life of the hardware.
    pub service_life: Hours,
}

impl SiteValues {
    /// Draws the site's values, in a fixed order (PUE, intensity, market intensity, WUE, EWIF,
    /// price, embodied per accelerator and per server, service life): every evaluation draws
    /// them alike, so Monte Carlo samples stay reproducible.
    ///
    /// With an intensity series ([`Site::series`]) the location-based intensity is the series
    /// over the work's own span of `period` from its start (a measured profile: its
    /// energy-weighted mean), and a market intensity given as a carbon-free share follows it.
    #[inline]
    pub fn draw(site: &Site, d: &mut Draw, period: Hours) -> Self {
        let pue = d.value(&site.pue.range);
        let drawn = site.intensity.range.draw(d);
        let intensity = match &site.series {
            Some(s) => s.placed.intensity(period),
            None => drawn,
        };
        Self {
            pue,
            intensity,
            market_intensity: site.market_intensity.as_ref().map(|m| match m {
                Market::Intensity(p) => p.range.draw(d),
                Market::ShareOfLocation(p) => GramsPerKwh(intensity.0 * d.value(&p.range)),
            }),
            wue: LitresPerKwh(d.value(&site.wue.range)),
            ewif: LitresPerKwh(d.value(&site.ewif.range)),
            price: d.value(&site.price.range),
            per_accelerator_kg: d.value(&site.embodied.per_accelerator_kg.range),
            per_server_kg: d.value(&site.embodied.per_server_kg.range),
            service_life: Hours(d.value(&site.embodied.service_life_h.range)),
        }
    }

    /// The footprint of `it` kept busy as `busy` at these values (the definitions at the top
    /// of this module); draws nothing, so a model can account a part of its work (one
    /// request) at the very values its totals used.
    #[must_use]
    #[inline]
    pub fn footprint(&self, it: &ItEnergy, busy: &Busy) -> Footprint {
        let e_it = it.total();
        let facility = e_it * self.pue;
        let share = if self.service_life.0 > 0.0 {
            busy.period.0 / self.service_life.0
        } else {
            0.0
        };
        Footprint {
            it: *it,
            facility,
            operational_carbon: KgCo2e::from(facility * self.intensity),
            market_carbon: self.market_intensity.map(|m| KgCo2e::from(facility * m)),
            embodied_carbon: KgCo2e(
                (busy.accelerators * self.per_accelerator_kg + busy.servers * self.per_server_kg)
                    * share,
            ),
            onsite_water: e_it * self.wue,
            offsite_water: facility * self.ewif,
            cost: facility.0 * self.price,
            busy: *busy,
            site: *self,
        }
    }
}

/// The footprint of one evaluation: IT energy by component and what the site makes of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Footprint {
    /// IT energy by component.
    pub it: ItEnergy,
    /// Facility energy, `E_it x PUE`.
    pub facility: KilowattHours,
    /// Operational carbon, location-based.
    pub operational_carbon: KgCo2e,
    /// Operational carbon, market-based, when the site has a market intensity.
    pub market_carbon: Option<KgCo2e>,
    /// Embodied carbon of the hardware for its busy time.
    pub embodied_carbon: KgCo2e,
    /// On-site (cooling) water.
    pub onsite_water: Litres,
    /// Off-site (electricity generation) water.
    pub offsite_water: Litres,
    /// Electricity cost, in the site's currency.
    pub cost: f64,
    /// The hardware kept busy and for how long.
    pub busy: Busy,
    /// The site values drawn for it.
    pub site: SiteValues,
}

impl Footprint {
    /// Operational (location-based) plus embodied carbon.
    #[must_use]
    pub fn carbon(&self) -> KgCo2e {
        KgCo2e(self.operational_carbon.0 + self.embodied_carbon.0)
    }

    /// On-site plus off-site water.
    #[must_use]
    pub fn water(&self) -> Litres {
        Litres(self.onsite_water.0 + self.offsite_water.0)
    }

    /// Puts its figures into `rec`, in the order of the output (the market-based carbon only
    /// when the site has one: the same for every evaluation of a site), then the IT energy of
    /// each of `components` (of [`COMPONENTS`]; a measured run lists its own, so only the rest).
    #[inline]
    pub fn put(&self, components: &[Figure], rec: &mut Record<'_>) {
        rec.put(Figure::ItEnergy, self.it.total().0);
        rec.put(Figure::FacilityEnergy, self.facility.0);
        rec.put(Figure::Carbon, self.carbon().0);
        rec.put(Figure::OperationalCarbon, self.operational_carbon.0);
        if let Some(m) = self.market_carbon {
            rec.put(Figure::MarketCarbon, m.0);
        }
        rec.put(Figure::EmbodiedCarbon, self.embodied_carbon.0);
        rec.put(Figure::Water, self.water().0);
        rec.put(Figure::OnsiteWater, self.onsite_water.0);
        rec.put(Figure::OffsiteWater, self.offsite_water.0);
        rec.put(Figure::Cost, self.cost);
        for c in components {
            let v = match c {
                Figure::ComponentAccelerators => self.it.accelerators,
                Figure::ComponentHost => self.it.host,
                _ => self.it.rest,
            };
            rec.put(*c, v.0);
        }
    }
}

/// Turns one evaluation's IT energy into its footprint: draws the site's values
/// ([`SiteValues::draw`]) and writes the steps of the explanation.
#[inline]
pub fn account<T: StepSink>(
    site: &Site,
    d: &mut Draw,
    t: &mut T,
    it: &ItEnergy,
    busy: &Busy,
) -> Footprint {
    let v = SiteValues::draw(site, d, busy.period);
    let f = v.footprint(it, busy);
    let (e_it, e_fac) = (it.total(), f.facility);
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
    t.step(|| {
        Step::new(
            "facility_energy",
            format!(
                "E_fac = E_it x PUE = {} kWh x {}",
                fmt_input(e_it.0),
                fmt_input(v.pue)
            ),
            e_fac.0,
            "kWh",
        )
        .source(site.pue.source.clone())
    });
    t.step(|| {
        Step::new(
            "operational_carbon",
            format!(
                "C_op = E_fac x CI_location = {} kWh x {} g/kWh ({})",
                fmt_input(e_fac.0),
                fmt_input(v.intensity.0),
                site.intensity_scope
            ),
            f.operational_carbon.0,
            "kgCO2e",
        )
        .source(site.intensity.source.clone())
    });
    if let (Some(m), Some(kg), Some(p)) = (
        v.market_intensity,
        f.market_carbon,
        site.market_intensity.as_ref(),
    ) {
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
            .source(p.source().to_string())
        });
    }
    t.step(|| {
        Step::new(
            "embodied_carbon",
            format!(
                "C_emb = (N_acc x {} kg + N_srv x {} kg) x t_busy / life = ({} x {} + {} x {}) x {} h / {} h",
                fmt_input(v.per_accelerator_kg),
                fmt_input(v.per_server_kg),
                fmt_input(busy.accelerators),
                fmt_input(v.per_accelerator_kg),
                fmt_input(busy.servers),
                fmt_input(v.per_server_kg),
                fmt_input(busy.period.0),
                fmt_input(v.service_life.0)
            ),
            f.embodied_carbon.0,
            "kgCO2e",
        )
        .source(format!(
            "{}; {}; {}",
            site.embodied.per_accelerator_kg.source,
            site.embodied.per_server_kg.source,
            site.embodied.service_life_h.source
        ))
    });
    t.step(|| {
        Step::new(
            "onsite_water",
            format!(
                "W_site = E_it x WUE = {} kWh x {} L/kWh",
                fmt_input(e_it.0),
                fmt_input(v.wue.0)
            ),
            f.onsite_water.0,
            "L",
        )
        .source(site.wue.source.clone())
    });
    t.step(|| {
        Step::new(
            "offsite_water",
            format!(
                "W_source = E_fac x EWIF = {} kWh x {} L/kWh",
                fmt_input(e_fac.0),
                fmt_input(v.ewif.0)
            ),
            f.offsite_water.0,
            "L",
        )
        .source(site.ewif.source.clone())
    });
    t.step(|| {
        Step::new(
            "cost",
            format!(
                "cost = E_fac x price = {} kWh x {} {}/kWh",
                fmt_input(e_fac.0),
                fmt_input(v.price),
                site.currency
            ),
            f.cost,
            &site.currency,
        )
        .source(site.price.source.clone())
    });
    f
}

/// A fixed site for unit tests of the models.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn p(v: f64) -> Param {
        Param::new(Range::point(v), "test")
    }

    /// PUE 1.5, 400 g/kWh (market 100), WUE 0.5, EWIF 2, 0.1 USD/kWh, 150/1000 kg over 4 y.
    pub(crate) fn ci(v: f64) -> Param<UnitRange<GramsPerKwh>> {
        Param::new(UnitRange::point(GramsPerKwh(v)), "test")
    }

    pub(crate) fn site() -> Site {
        Site {
            pue: p(1.5),
            intensity: ci(400.0),
            intensity_scope: "test".into(),
            market_intensity: Some(Market::Intensity(ci(100.0))),
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
            series: None,
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
        let fp = account(
            &site(),
            &mut Draw::Central { uncertain: 0 },
            &mut NoTrace,
            &it,
            &busy,
        );
        let mut rec = Record::central();
        fp.put(&COMPONENTS.map(|c| c.0), &mut rec);
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
        assert_eq!(fp.carbon(), KgCo2e(fp.operational_carbon.0 + 550.0));
        assert_eq!(f[&Figure::ComponentHost], 0.3);
    }
}
