//! Planning: numbers a user can act on before the work runs (`wattlens plan ...`), built on the
//! same models and accounting core as the estimates.

pub mod checkpoint;
