//! Fleets of servers: `servers x power x load x hours`, or a total IT power or energy, per day
//! and per year, then the shared footprint accounting.

use super::power::Split;
use crate::explain::{Step, StepSink};
use crate::figure::Figure;
use crate::footprint::{Busy, Footprint, ItEnergy, Site};
use crate::record::Record;
use crate::result::ReportKind;
use crate::runner::{Evaluate, Usage};
use crate::uncertainty::{fmt_input, Draw, Range};
use crate::units::{Hours, KilowattHours, Watts};

/// What the fleet's IT load is given as.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Load {
    /// A number of servers of a given power at a load factor.
    Servers {
        /// Servers.
        servers: Range,
        /// Power per server at full load, W.
        server_w: Range,
        /// Average load as a fraction of that power.
        load: Range,
        /// Accelerators per server (for embodied carbon; 0 when unknown).
        accelerators_per_server: Range,
    },
    /// A total IT power, W.
    ItPower(Range),
    /// A total IT energy over the period, kWh.
    Energy(Range),
}

/// A fleet to estimate.
#[derive(Clone, Debug)]
pub struct FleetSpec {
    /// The IT load.
    pub load: Load,
    /// The period, hours.
    pub hours: Range,
    /// How IT energy splits into components.
    pub split: Split,
    /// Where it runs.
    pub site: Site,
}

impl Evaluate for FleetSpec {
    /// The IT energy as drawn (before its split into components).
    type State = KilowattHours;

    fn kind(&self) -> ReportKind {
        ReportKind::Fleet
    }
    fn site(&self) -> &Site {
        &self.site
    }

    fn evaluate<T: StepSink>(
        &self,
        d: &mut Draw,
        t: &mut T,
        _rec: &mut Record<'_>,
    ) -> Usage<KilowattHours> {
        let hours = Hours(d.value(&self.hours));
        let (total, servers, accels) = match &self.load {
            Load::Servers {
                servers,
                server_w,
                load,
                accelerators_per_server,
            } => {
                let (n, w, l, a) = (
                    d.value(servers),
                    d.value(server_w),
                    d.value(load),
                    d.value(accelerators_per_server),
                );
                let e = Watts(n * w * l) * hours;
                t.step(|| {
                    Step::new(
                        "it_energy",
                        format!(
                            "E_it = servers x power x load x hours = {} x {} W x {} x {} h",
                            fmt_input(n),
                            fmt_input(w),
                            fmt_input(l),
                            fmt_input(hours.0)
                        ),
                        e.0,
                        "kWh",
                    )
                });
                (e, n, n * a)
            }
            Load::ItPower(p) => {
                let w = d.value(p);
                let e = Watts(w) * hours;
                t.step(|| {
                    Step::new(
                        "it_energy",
                        format!(
                            "E_it = P_it x hours = {} W x {} h",
                            fmt_input(w),
                            fmt_input(hours.0)
                        ),
                        e.0,
                        "kWh",
                    )
                });
                (e, 0.0, 0.0)
            }
            Load::Energy(e) => (KilowattHours(d.value(e)), 0.0, 0.0),
        };
        let (fa, fh, fr) = self.split.draw(d);
        let it = ItEnergy {
            accelerators: total * fa,
            host: total * fh,
            rest: total * fr,
        };
        let busy = Busy {
            accelerators: accels,
            servers,
            period: hours,
        };
        Usage {
            it,
            busy,
            state: total,
        }
    }

    fn finish<T: StepSink>(
        &self,
        total: KilowattHours,
        fp: &Footprint,
        t: &mut T,
        rec: &mut Record<'_>,
    ) {
        let (fac, hours) = (fp.facility, fp.busy.period);
        let (servers, accels) = (fp.busy.servers, fp.busy.accelerators);
        let per_day = fac.0 * 24.0 / hours.0;
        t.step(|| {
            Step::new(
                "energy_per_day",
                format!("E_fac x 24 h / {} h; per year x 365", fmt_input(hours.0)),
                per_day,
                "kWh/day",
            )
        });
        rec.put(Figure::EnergyPerDay, per_day);
        rec.put(Figure::EnergyPerYear, per_day * 365.0);
        rec.put(Figure::ItPower, total.0 / hours.0);
        rec.put(Figure::FacilityPower, fac.0 / hours.0);
        if servers > 0.0 {
            rec.put(Figure::Servers, servers);
        }
        if accels > 0.0 {
            rec.put(Figure::Accelerators, accels);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{run, McOptions};

    #[test]
    fn chatgpt_servers_for_a_day() {
        // 3617 x 6.5 kW x 24 h = 564,252 kWh (de Vries 2023)
        let mut site = crate::footprint::tests_support::site();
        site.pue = crate::footprint::Param::new(Range::point(1.0), "test");
        let spec = FleetSpec {
            load: Load::Servers {
                servers: Range::point(3617.0),
                server_w: Range::point(6500.0),
                load: Range::point(1.0),
                accelerators_per_server: Range::point(8.0),
            },
            hours: Range::point(24.0),
            split: Split::Fractions {
                accel: 0.5,
                host: Range::point(0.1),
            },
            site,
        };
        let e = run(&spec, McOptions::default(), vec![]);
        assert_eq!(e.samples, 1);
        assert!((e.get(Figure::ItEnergy).expect("it").p50 - 564_252.0).abs() < 1e-6);
        assert!((e.get(Figure::EnergyPerYear).expect("y").p50 - 564_252.0 * 365.0).abs() < 1e-3);
        assert_eq!(e.get(Figure::Accelerators).expect("acc").p50, 28_936.0);
    }

    #[test]
    fn two_threads_give_the_same_samples_as_one() {
        let mut site = crate::footprint::tests_support::site();
        site.pue = crate::footprint::Param::new(Range::new(1.1, 1.6), "test");
        let spec = FleetSpec {
            load: Load::Servers {
                servers: Range::new(100.0, 200.0),
                server_w: Range::point(6500.0),
                load: Range::new(0.5, 1.0),
                accelerators_per_server: Range::point(8.0),
            },
            hours: Range::point(24.0),
            split: Split::Fractions {
                accel: 0.5,
                host: Range::point(0.1),
            },
            site,
        };
        let one = run(
            &spec,
            McOptions {
                samples: 30_001,
                seed: 9,
                threads: 1,
            },
            vec![],
        );
        let two = run(
            &spec,
            McOptions {
                samples: 30_001,
                seed: 9,
                threads: 2,
            },
            vec![],
        );
        assert_eq!(one.figures, two.figures);
        let p = one.get(Figure::FacilityEnergy).expect("fac");
        assert!(p.p5 < p.p50 && p.p50 < p.p95);
    }
}
