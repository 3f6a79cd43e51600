//! Power per accelerator, split into the accelerator itself, its share of the host (CPUs and
//! memory) and its share of the rest of the server, from one of three bases:
//!
//! - `tdp`: board power x load; host and rest as sourced fractions of the accelerator's draw;
//! - `server`: a server's maximum power x load / accelerators per server, split by the server's
//!   composition (board power of its accelerators, CPU TDP and DRAM);
//! - `measured`: a measured average accelerator power, host and rest as in `tdp`.

use crate::explain::{Step, StepSink};
use crate::uncertainty::{fmt_input, Draw, Range};
use crate::units::Watts;

/// How power per accelerator is obtained.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PowerBasis {
    /// Board power x load, plus host and rest fractions.
    Tdp {
        /// Board power (TDP), W.
        board_w: Range,
        /// Average draw as a fraction of board power.
        load: Range,
        /// Host (CPU + memory) power as a fraction of accelerator power.
        host_share: Range,
        /// Rest-of-server power as a fraction of accelerator power.
        rest_share: Range,
    },
    /// Server maximum power x load, shared among its accelerators.
    Server {
        /// Server maximum power, W.
        server_w: Range,
        /// Accelerators per server.
        per_server: Range,
        /// Average draw as a fraction of maximum power.
        load: Range,
        /// Board power of one accelerator, W (its part of the server power).
        board_w: Range,
        /// Host CPUs + DRAM at full power, W per server (0 when unknown).
        host_w: Range,
    },
    /// A measured average power per accelerator.
    Measured {
        /// Average power per accelerator, W.
        accel_w: Range,
        /// Host fraction of accelerator power.
        host_share: Range,
        /// Rest fraction of accelerator power.
        rest_share: Range,
    },
}

/// Power of one accelerator and its shares of the server.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PerAccelerator {
    /// The accelerator.
    pub accel: Watts,
    /// Its share of host CPUs and memory.
    pub host: Watts,
    /// Its share of the rest of the server.
    pub rest: Watts,
}

impl PerAccelerator {
    /// Total IT power attributable to one accelerator.
    #[must_use]
    pub fn total(&self) -> Watts {
        self.accel + self.host + self.rest
    }
}

impl PowerBasis {
    /// Short name for explanations.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            PowerBasis::Tdp { .. } => "tdp",
            PowerBasis::Server { .. } => "server",
            PowerBasis::Measured { .. } => "measured",
        }
    }

    /// Draws the power of one accelerator and its shares.
    pub fn draw<T: StepSink>(&self, d: &mut Draw, t: &mut T) -> PerAccelerator {
        match self {
            PowerBasis::Tdp {
                board_w,
                load,
                host_share,
                rest_share,
            } => {
                let (b, l, h, r) = (
                    d.value(board_w),
                    d.value(load),
                    d.value(host_share),
                    d.value(rest_share),
                );
                let accel = Watts(b * l);
                let p = PerAccelerator {
                    accel,
                    host: accel * h,
                    rest: accel * r,
                };
                t.step(|| {
                    Step::new(
                        "power_per_accelerator",
                        format!(
                            "P = board x load x (1 + host + rest) = {} W x {} x (1 + {} + {})",
                            fmt_input(b),
                            fmt_input(l),
                            fmt_input(h),
                            fmt_input(r)
                        ),
                        p.total().0,
                        "W",
                    )
                });
                p
            }
            PowerBasis::Server {
                server_w,
                per_server,
                load,
                board_w,
                host_w,
            } => {
                let (s, n, l, b, h) = (
                    d.value(server_w),
                    d.value(per_server),
                    d.value(load),
                    d.value(board_w),
                    d.value(host_w),
                );
                let total = s * l / n;
                let accel = (b * l).min(total);
                let host = (h * l / n).min(total - accel);
                let p = PerAccelerator {
                    accel: Watts(accel),
                    host: Watts(host),
                    rest: Watts(total - accel - host),
                };
                t.step(|| {
                    Step::new(
                        "power_per_accelerator",
                        format!(
                            "P = server max x load / accelerators per server = {} W x {} / {} (accelerator {} W, host {} W, rest {} W)",
                            fmt_input(s),
                            fmt_input(l),
                            fmt_input(n),
                            fmt_input(accel),
                            fmt_input(host),
                            fmt_input(total - accel - host)
                        ),
                        total,
                        "W",
                    )
                });
                p
            }
            PowerBasis::Measured {
                accel_w,
                host_share,
                rest_share,
            } => {
                let (a, h, r) = (d.value(accel_w), d.value(host_share), d.value(rest_share));
                let accel = Watts(a);
                let p = PerAccelerator {
                    accel,
                    host: accel * h,
                    rest: accel * r,
                };
                t.step(|| {
                    Step::new(
                        "power_per_accelerator",
                        format!(
                            "P = measured x (1 + host + rest) = {} W x (1 + {} + {})",
                            fmt_input(a),
                            fmt_input(h),
                            fmt_input(r)
                        ),
                        p.total().0,
                        "W",
                    )
                });
                p
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::NoTrace;

    #[test]
    fn server_basis_splits_by_composition() {
        // DGX H100: 10.2 kW / 8 = 1275 W per GPU; GPU 700 W; host 1000 W / 8 = 125 W; rest 450 W
        let b = PowerBasis::Server {
            server_w: Range::point(10_200.0),
            per_server: Range::point(8.0),
            load: Range::point(1.0),
            board_w: Range::point(700.0),
            host_w: Range::point(1000.0),
        };
        let p = b.draw(&mut Draw::Central { uncertain: 0 }, &mut NoTrace);
        assert_eq!((p.accel.0, p.host.0, p.rest.0), (700.0, 125.0, 450.0));
    }

    #[test]
    fn tdp_basis_adds_shares() {
        // 400 W x 0.5 = 200 W; host 20%, rest 30% -> 200 + 40 + 60 = 300 W
        let b = PowerBasis::Tdp {
            board_w: Range::point(400.0),
            load: Range::point(0.5),
            host_share: Range::point(0.2),
            rest_share: Range::point(0.3),
        };
        let p = b.draw(&mut Draw::Central { uncertain: 0 }, &mut NoTrace);
        assert!((p.total().0 - 300.0).abs() < 1e-9);
    }
}

/// How a total IT power or energy is split into accelerators, host and rest.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Split {
    /// Fixed fractions of the total from a server's composition (rest = 1 - accel - host).
    Fractions {
        /// Accelerators' fraction of the total.
        accel: f64,
        /// Host CPUs' and memory's fraction (a range where the host power is a default share
        /// of the accelerators', the row publishing no CPU TDP).
        host: Range,
    },
    /// A server without accelerators (a CPU server, a laptop): the host (CPUs and memory) takes
    /// the accelerators' place and the rest of the server is a share of it, as `wattlens run`
    /// models a measured machine.
    HostOnly {
        /// Rest power / host power.
        rest_share: Range,
    },
    /// Host and rest as fractions of accelerator power (the `tdp` defaults).
    Shares {
        /// Host power / accelerator power.
        host_share: Range,
        /// Rest power / accelerator power.
        rest_share: Range,
    },
}

impl Split {
    /// The split of a server with known maximum power and composition; `None` unless the
    /// server's power is finite and above zero and the parts' powers finite and not negative
    /// (their fractions would be NaN).
    #[must_use]
    pub fn of_server(server_w: f64, accel_w: f64, host_w: f64) -> Option<Self> {
        Self::of_server_host(server_w, accel_w, Range::point(host_w))
    }

    /// [`Split::of_server`] with the host power a range (each end checked the same way).
    #[must_use]
    pub fn of_server_host(server_w: f64, accel_w: f64, host_w: Range) -> Option<Self> {
        let finite = |w: f64| w.is_finite() && w >= 0.0;
        if !(finite(server_w)
            && server_w > 0.0
            && finite(accel_w)
            && finite(host_w.lo)
            && finite(host_w.hi))
        {
            return None;
        }
        let accel = (accel_w / server_w).clamp(0.0, 1.0);
        let host = |w: f64| (w / server_w).clamp(0.0, 1.0 - accel);
        Some(Split::Fractions {
            accel,
            host: Range::new(host(host_w.lo), host(host_w.hi)),
        })
    }

    /// Draws the (accelerator, host, rest) fractions of the total.
    pub fn draw(&self, d: &mut Draw) -> (f64, f64, f64) {
        match self {
            Split::Fractions { accel, host } => {
                let h = d.value(host);
                (*accel, h, 1.0 - accel - h)
            }
            Split::HostOnly { rest_share } => {
                let r = d.value(rest_share);
                let rest = r / (1.0 + r);
                (0.0, 1.0 - rest, rest)
            }
            Split::Shares {
                host_share,
                rest_share,
            } => {
                let (h, r) = (d.value(host_share), d.value(rest_share));
                let s = 1.0 + h + r;
                (1.0 / s, h / s, r / s)
            }
        }
    }
}
