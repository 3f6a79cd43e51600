//! The crate's one error type: [`Error`] wraps each module's own error, so a caller that drives
//! a whole workflow (catalog, inputs, resolve, run, report, meter) can use `?` throughout and
//! still match on the part that failed; [`Result`] is the alias that goes with it.
//!
//! Each module keeps its own error enum (the CLI maps them to flags and exit codes); this type
//! adds no text of its own, so `Display` is exactly the wrapped error's message.

use crate::catalog::CatalogError;
use crate::estimate::failures::Infeasible;
use crate::estimate::EstimateError;
use crate::field::Field;
use crate::grid::GridError;
use crate::input::InputError;
use crate::limits::LimitError;
use crate::measure::RatingError;
use crate::report::compare::CompareError;
use crate::source::replay::TraceError;
use crate::source::{PollError, SourceError};

/// Any error of the library: which part failed, with that part's own error inside.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Resolving or running an estimate (names the fields at fault).
    #[error(transparent)]
    Estimate(#[from] EstimateError),
    /// Reading the catalog or looking a name up in it.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// Reading a value with units (`700W`, `10..20%`).
    #[error(transparent)]
    Input(#[from] InputError),
    /// A value outside the hard limits of its field.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// Failure settings under which a training run never finishes.
    #[error(transparent)]
    Infeasible(#[from] Infeasible),
    /// Reading, building or integrating an intensity series.
    #[error(transparent)]
    Grid(#[from] GridError),
    /// A measurement source (a sysfs file, a GPU driver call).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// One poll of a measurement source.
    #[error(transparent)]
    Poll(#[from] PollError),
    /// Reading or writing a measurement trace.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// Resolving the CPU rating of a node.
    #[error(transparent)]
    Rating(#[from] RatingError),
    /// Reading a footprint to compare with.
    #[error(transparent)]
    Compare(#[from] CompareError),
    /// Writing a report as CSV.
    #[error(transparent)]
    Csv(#[from] csv::Error),
    /// Writing or reading a report as JSON (`wattlens.footprint/v1`).
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Writing a report or a trace to a file or stream.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Error {
    /// The message with every input in the reader's words (`name(Field::Pue)`: `--pue` on a
    /// command line, `pue` in Python); `Display` is this with the fields' own names.
    #[must_use]
    pub fn render(&self, name: &dyn Fn(Field) -> String) -> String {
        match self {
            Self::Estimate(e) => e.render(name),
            e => e.to_string(),
        }
    }
}

/// A result whose error is the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::Msg;

    fn invalid_pue() -> EstimateError {
        EstimateError::Invalid {
            field: Field::Pue,
            message: Msg::from("must be at least 1"),
        }
    }

    #[test]
    fn display_is_the_wrapped_message() {
        let inner = invalid_pue().to_string();
        let e = Error::from(invalid_pue());
        assert_eq!(e.to_string(), inner);
        assert_eq!(inner, "pue: must be at least 1");
    }

    #[test]
    fn render_names_fields_in_the_callers_words() {
        let e = Error::from(invalid_pue());
        let flag = |f: Field| format!("--{}", f.name().replace('_', "-"));
        assert_eq!(e.render(&flag), "--pue: must be at least 1");
        // An error without fields renders as its message.
        let e = Error::from(LimitError::NotFinite);
        assert_eq!(e.render(&flag), "not a finite number");
    }

    #[test]
    fn it_crosses_threads_and_boxes_like_any_error() {
        fn boxable<T: std::error::Error + Send + Sync + 'static>() {}
        boxable::<Error>();
    }

    #[test]
    fn question_mark_converts_each_part() {
        fn parse() -> Result<crate::uncertainty::Range> {
            Ok(crate::input::parse_range("lots", crate::input::Dim::Power)?)
        }
        assert!(matches!(parse(), Err(Error::Input(_))));
        fn lookup() -> Result<()> {
            crate::catalog::Catalog::embedded()
                .accelerators()?
                .get("no-such-gpu")?;
            Ok(())
        }
        assert!(matches!(lookup(), Err(Error::Catalog(_))));
    }
}
