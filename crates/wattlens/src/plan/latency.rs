//! The latency a region adds (`plan region --from`): the round-trip time over fibre between
//! where the users or the data are and each candidate region, from the two catalog points.
//!
//! `RTT = 2 x d x k / v + f`, with
//! - `d` the great-circle distance by the haversine formula on a sphere of radius
//!   [`EARTH_RADIUS_KM`];
//! - `k` the route inflation of real fibre paths over the great circle: [`INFLATION`]: low 1.3,
//!   the median over the 120 largest US population centres of the shortest paths through the
//!   long-haul conduits (Bozkurt et al., "Dissecting Latency in the Internet's Fiber
//!   Infrastructure", 2017); middle 2.1, their rule of thumb from earlier measurement campaigns
//!   ("multiply line-of-sight distance by 2.1, then divide by the speed of light in fiber"),
//!   the same as Singla et al.'s median minimum ping of about 3.2x the vacuum light time
//!   ("The Internet at the Speed of Light", HotNets 2014) once fibre's 1.5 is taken out; high
//!   2.9, the middle plus its distance to the low (modelled: no source gives an upper
//!   percentile);
//! - `v` the speed of light in fibre, [`FIBRE_KM_PER_MS`] (2/3 of c, about 200 km/ms);
//! - `f` a stated floor for switching and the metro hops at both ends, [`FLOOR_MS`] (modelled).
//!
//! The same point at both ends gives the floor alone.

use super::PlanError;
use crate::catalog::Catalog;
use crate::field::Field;
use crate::uncertainty::Percentiles;

/// Mean Earth radius, km (IUGG).
pub const EARTH_RADIUS_KM: f64 = 6371.0;
/// Speed of light in fibre, km/ms: 2/3 of 299,792.458 km/s.
pub const FIBRE_KM_PER_MS: f64 = 299.792_458 * 2.0 / 3.0;
/// Route inflation over the great circle: low, middle, high (see the module's sources).
pub const INFLATION: [f64; 3] = [1.3, 2.1, 2.9];
/// Round-trip floor for switching and the metro hops at both ends, ms (modelled).
pub const FLOOR_MS: f64 = 1.0;

/// Great-circle distance between two points given in degrees, km (haversine).
#[must_use]
pub fn great_circle_km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The round-trip time over fibre for a great-circle distance `km`: `{low, middle, high}` of
/// the route inflation, ms.
#[must_use]
pub fn rtt_ms(km: f64) -> Percentiles {
    let at = |k: f64| 2.0 * km * k / FIBRE_KM_PER_MS + FLOOR_MS;
    Percentiles {
        p5: at(INFLATION[0]),
        p50: at(INFLATION[1]),
        p95: at(INFLATION[2]),
    }
}

/// The point of `--from` (its catalog key and latitude/longitude).
///
/// # Errors
/// [`PlanError::Invalid`] naming the field when the catalog has no location for `key`;
/// [`PlanError::Site`] only if the embedded table is broken.
pub fn origin(cat: &Catalog, key: &str) -> Result<(String, (f64, f64)), PlanError> {
    let key = key.trim();
    // A grid's other name (`France`, `FRA`) finds the grid's key first.
    let grid = cat
        .grids()
        .ok()
        .and_then(|g| g.get(key).ok())
        .map(|g| g.key.as_str());
    match cat
        .location(grid.unwrap_or(key))
        .map_err(|e| PlanError::Site(e.into()))?
    {
        Some(l) => Ok((l.key.clone(), (l.lat, l.lon))),
        None => Err(PlanError::invalid(
            Field::From,
            format!(
                "no location for {key:?} in the catalog; give a country code, a cloud region \
                 or a grid key that `wattlens catalog list locations` lists"
            ),
        )),
    }
}

/// The round trip from `origin` to the grid `key`, or `None` when the catalog has no location
/// for it.
///
/// # Errors
/// [`PlanError::Site`] only if the embedded table is broken.
pub fn to_key(
    cat: &Catalog,
    origin: (f64, f64),
    key: &str,
) -> Result<Option<Percentiles>, PlanError> {
    let l = cat.location(key).map_err(|e| PlanError::Site(e.into()))?;
    Ok(l.map(|l| rtt_ms(great_circle_km(origin, (l.lat, l.lon)))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_warsaw_by_hand() {
        // Paris (48.86 N, 2.35 E) to Warsaw (52.23 N, 21.01 E), haversine with R = 6371 km:
        // dphi = 3.37 deg, dlambda = 18.66 deg,
        // h = sin^2(1.685 deg) + cos(48.86 deg) cos(52.23 deg) sin^2(9.33 deg)
        //   = 0.000865 + 0.657901 x 0.612493 x 0.026283 = 0.000865 + 0.010591 = 0.011456,
        // d = 2 x 6371 x asin(sqrt(0.011456)) = 12742 x asin(0.107031) = 12742 x 0.107237
        //   = 1366.4 km.
        let d = great_circle_km((48.86, 2.35), (52.23, 21.01));
        assert!((d - 1366.4).abs() < 0.5, "{d}");
        // RTT at k = 2.1: 2 x 1366.4 x 2.1 / 199.862 + 1 = 28.71 + 1 = 29.71 ms;
        // at 1.3: 17.78 + 1 = 18.78 ms; at 2.9: 39.65 + 1 = 40.65 ms.
        let r = rtt_ms(d);
        assert!((r.p50 - 29.71).abs() < 0.05, "{r:?}");
        assert!((r.p5 - 18.78).abs() < 0.05, "{r:?}");
        assert!((r.p95 - 40.65).abs() < 0.05, "{r:?}");
    }

    #[test]
    fn the_same_point_gives_the_floor_and_antipodes_half_the_circumference() {
        assert_eq!(great_circle_km((10.0, 20.0), (10.0, 20.0)), 0.0);
        assert_eq!(rtt_ms(0.0).p50, FLOOR_MS);
        let half = great_circle_km((0.0, 0.0), (0.0, 180.0));
        assert!((half - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-6);
    }
}
