//! # lethe-shared
//!
//! The crate both sides of Lethe stand on — the native `lethe` trainer and the browser demo:
//! dataset readers and forgetting splits ([`data`]), the model definitions ([`model`]), input
//! normalisation ([`preprocess`]), the weight format ([`weights`]), unlearning metrics
//! ([`metrics`]), the LoRA building blocks ([`adapt`]), and what the demo shows: probabilities
//! ([`inference`]), the catalogue of shipped runs ([`catalog`]) and, with the `image` feature,
//! decoding any picture into model input (`image_input`).
//!
//! It builds for `wasm32-unknown-unknown`. Training-only code sits behind the additive `train`
//! feature ([`augment`], PruneLoRA's training step in `adapt::prunelora`, and `live`: PruneLoRA
//! one mini-batch at a time, for the page's live forgetting).

pub mod adapt;
#[cfg(feature = "train")]
pub mod augment;
pub mod catalog;
pub mod data;
#[cfg(feature = "image")]
pub mod image_input;
pub mod inference;
#[cfg(feature = "train")]
pub mod live;
pub mod metrics;
pub mod model;
pub mod preprocess;
pub mod weights;

/// Lethe's version, recorded in every manifest.
pub const LETHE_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The Burn version the weights were written with (the workspace pins it exactly).
pub const BURN_VERSION: &str = "0.22.1";
