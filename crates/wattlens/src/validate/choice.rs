//! The choice of the prior's form, tested: leave-one-family-out with the form chosen inside
//! each fold (nested) or fixed, and every registered candidate's figures (its PRESS among the
//! calibration families, its calibration fit on the held-back families), for `validate --kind
//! train`.

use super::fit::{self, Implied, Prior, Split};
use super::train::{
    hours_check, summarise, Candidate, CrossValidation, Fold, TrainOptions, ValidateError,
};
use crate::catalog::{Catalog, UserCatalog};
use crate::runner::McOptions;

/// The catalog with the prior replaced (a fold of the cross-validation, or a candidate).
fn with_prior(p: &Prior) -> Catalog {
    Catalog::with_user(UserCatalog {
        default: p.fitted.coefficients(
            &format!("fitted on {} runs of {} families", p.rows, p.families.len()),
            None,
        ),
        ..UserCatalog::default()
    })
}

/// Leave-one-family-out, nested: for each family, the form is chosen by the rule on the other
/// families, fitted on them, and predicts the family's rows. With `fixed`, that form in every
/// fold instead (a candidate's own figure).
pub(super) fn cross_validate(
    implied: &[Implied<'_>],
    fixed: Option<&fit::Form>,
    mc: McOptions,
) -> Result<CrossValidation, ValidateError> {
    let mut fams: Vec<&str> = implied.iter().map(|i| i.run.family.as_str()).collect();
    fams.sort_unstable();
    fams.dedup();
    let (mut rows, mut folds) = (Vec::new(), Vec::new());
    for fam in fams {
        let rest: Vec<_> = implied.iter().filter(|i| i.run.family != fam).collect();
        let form = fixed.unwrap_or_else(|| fit::choose(&rest).0);
        let prior = fit::fit(&rest, form).ok_or_else(|| ValidateError::TooFew {
            what: format!("form {} on all but {fam}", form.name),
        })?;
        let cat = with_prior(&prior);
        for i in implied.iter().filter(|i| i.run.family == fam) {
            rows.push(hours_check(&cat, i, mc)?);
        }
        folds.push(Fold {
            left_out: fam.to_string(),
            prior,
        });
    }
    rows.sort_by_key(|r| position(implied, &r.id));
    let all: Vec<_> = rows.iter().collect();
    let summary = summarise("all", &all).summary;
    Ok(CrossValidation {
        rows,
        summary,
        folds,
    })
}

/// Every candidate's figures: PRESS among the calibration families, its calibration fit's
/// held-back summary, and (with `--cross-validate`) its own leave-one-family-out.
pub(super) fn candidates(
    implied: &[Implied<'_>],
    scores: &[(&'static str, f64)],
    o: TrainOptions,
) -> Result<Vec<Candidate>, ValidateError> {
    let cal = fit::calibration(implied);
    let mut out = Vec::new();
    for (form, (name, press)) in fit::FORMS.iter().zip(scores) {
        let fitted = fit::fit(&cal, form);
        let held_back = match &fitted {
            Some(p) => {
                let cat = with_prior(p);
                let mut rows = Vec::new();
                for i in implied
                    .iter()
                    .filter(|i| Split::of(&i.run.family) == Split::HeldBack)
                {
                    rows.push(hours_check(&cat, i, o.mc)?);
                }
                let refs: Vec<_> = rows.iter().collect();
                Some(summarise("held-back", &refs).summary)
            }
            None => None,
        };
        let cross_validated = if o.cross_validate {
            cross_validate(implied, Some(form), o.mc)
                .ok()
                .map(|c| c.summary)
        } else {
            None
        };
        out.push(Candidate {
            form: name,
            press_calibration: press.is_finite().then_some(*press),
            equation: fitted.map(|p| p.equation),
            held_back,
            cross_validated,
        });
    }
    Ok(out)
}

fn position(implied: &[Implied<'_>], id: &str) -> usize {
    implied
        .iter()
        .position(|i| i.run.id == id)
        .unwrap_or(usize::MAX)
}
