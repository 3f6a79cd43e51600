//! `wattlens validate`: the estimators run on published figures they were not fitted on (the
//! disclosure tables), with the calibrated prior of training utilisation fitted on one half of
//! a family split and checked on the other, or family by family (leave one family out).

mod choice;
pub mod fit;
pub mod infer;
pub mod summary;
pub mod table;
pub mod train;

pub use choice::{second_level, Selection};
pub use fit::{Prior, Split};
pub use infer::{
    validate_infer, Attempt, InferCheck, InferEstimate, InferSummary, InferValidation,
};
pub use summary::Summary;
pub use table::{inference_rows, training_runs, InferenceRow, TableError, TrainingRun};
pub use train::{
    validate_train, Candidate, CrossValidation, EnergyCheck, EnergyScope, Fold, HoursCheck, Named,
    Skipped, TrainOptions, TrainValidation, ValidateError,
};
