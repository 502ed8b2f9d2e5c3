//! Lethe's browser demo (Leptos, client-side wasm). Placeholder until the browser issue: it will
//! load the weights in `static/models/` through [`lethe_shared::weights::decode_model`], the
//! same model code the trainer uses.

pub use lethe_shared::model::Preset;
