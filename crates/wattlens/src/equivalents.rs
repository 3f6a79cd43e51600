//! Everyday equivalents of a footprint (US homes powered, car kilometres, phone charges, a
//! share of a country's electricity): their own step after the accounting, with their own draws.

use crate::figure::Figure;
use crate::footprint::{Footprint, Site};
use crate::record::Record;
use crate::result::Equivalent;
use crate::uncertainty::Draw;
use crate::units::HOURS_PER_YEAR;

/// One draw of the equivalents' inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Inputs {
    /// Electricity of a US home, kWh per year.
    pub home_kwh_per_year: f64,
    /// Passenger car, g CO2 per km.
    pub car_g_per_km: f64,
    /// One smartphone charge, g CO2.
    pub phone_charge_g: f64,
}

impl Inputs {
    /// Draws them in a fixed order (home, car, phone), after the site's own draws.
    #[inline]
    pub fn draw(site: &Site, d: &mut Draw) -> Self {
        Self {
            home_kwh_per_year: d.value(&site.home_kwh_per_year.range),
            car_g_per_km: d.value(&site.car_g_per_km.range),
            phone_charge_g: d.value(&site.phone_charge_g.range),
        }
    }
}

/// Draws the equivalents' inputs ([`Inputs::draw`]) and puts the equivalents of `fp`.
/// `eq.us_homes` and `eq.country_share` are per period: they are put only when the busy period
/// is positive (for every evaluation alike, as the record's columns are positional).
#[inline]
pub fn put(site: &Site, d: &mut Draw, fp: &Footprint, rec: &mut Record<'_>) {
    let Inputs {
        home_kwh_per_year: home,
        car_g_per_km: car,
        phone_charge_g: phone,
    } = Inputs::draw(site, d);
    let (e_fac, carbon) = (fp.facility.0, fp.carbon().0);
    let years = fp.busy.period.0 / HOURS_PER_YEAR;
    if years > 0.0 {
        rec.put(Figure::EqUsHomes, e_fac / (home * years));
    }
    rec.put(Figure::EqCarKm, carbon * 1000.0 / car);
    rec.put(Figure::EqPhoneCharges, carbon * 1000.0 / phone);
    if let (Some((_, annual)), true) = (&site.country_annual_kwh, years > 0.0) {
        rec.put(Figure::EqCountryShare, e_fac / years / annual);
    }
}

/// The equivalents of `site` as the output describes them. `short_period`: the busy period is under an hour, where "homes powered for the
/// same period" means little, so that one is left out.
#[must_use]
pub fn describe(site: &Site, short_period: bool) -> Vec<Equivalent> {
    let mut v = Vec::new();
    if !short_period {
        v.push(Equivalent {
            figure: Figure::EqUsHomes,
            description: Figure::EqUsHomes.label().to_string(),
            unit: Figure::EqUsHomes.unit(),
            source: site.home_kwh_per_year.source.clone(),
        });
    }
    v.push(Equivalent {
        figure: Figure::EqCarKm,
        description: Figure::EqCarKm.label().to_string(),
        unit: Figure::EqCarKm.unit(),
        source: site.car_g_per_km.source.clone(),
    });
    v.push(Equivalent {
        figure: Figure::EqPhoneCharges,
        description: Figure::EqPhoneCharges.label().to_string(),
        unit: Figure::EqPhoneCharges.unit(),
        source: site.phone_charge_g.source.clone(),
    });
    if let Some((country, _)) = &site.country_annual_kwh {
        v.push(Equivalent {
            figure: Figure::EqCountryShare,
            description: format!(
                "share of {country}'s annual electricity generation (annualised facility energy)"
            ),
            unit: Figure::EqCountryShare.unit(),
            source: "Ember; Our World in Data (via mlco2/codecarbon global_energy_mix.json)"
                .to_string(),
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::footprint::tests_support::site;
    use crate::footprint::{Busy, ItEnergy, SiteValues};
    use crate::units::{Hours, KilowattHours};

    #[test]
    fn equivalents_of_a_year_and_of_no_time() {
        let s = site();
        let mut d = Draw::Central { uncertain: 0 };
        let it = ItEnergy {
            accelerators: KilowattHours(2.0),
            ..ItEnergy::default()
        };
        let year = Busy {
            period: Hours(HOURS_PER_YEAR),
            ..Busy::default()
        };
        let fp = SiteValues::draw(&s, &mut d, year.period).footprint(&it, &year);
        let mut rec = Record::central();
        put(&s, &mut d, &fp, &mut rec);
        // 2 kWh x PUE 1.5 = 3 kWh over one year / 10,000 kWh per home-year
        assert!((rec.central_value(Figure::EqUsHomes).unwrap_or(0.0) - 3e-4).abs() < 1e-12);
        // 3 kWh x 400 g/kWh = 1200 g / 250 g per km = 4.8 km
        assert!((rec.central_value(Figure::EqCarKm).unwrap_or(0.0) - 4.8).abs() < 1e-12);
        let none = SiteValues::draw(&s, &mut d, Hours(0.0)).footprint(&it, &Busy::default());
        let mut rec = Record::central();
        put(&s, &mut d, &none, &mut rec);
        assert_eq!(rec.central_value(Figure::EqUsHomes), None);
        assert_eq!(describe(&s, true).len(), 2);
    }
}
