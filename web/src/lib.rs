//! # lethe-web
//!
//! Lethe's browser demo: a Leptos client-side app that shows one real picture classified by an
//! original model and by a model that forgot a class, side by side.
//!
//! It runs the same model code as the trainer (`lethe_shared::model`), loads the weights
//! exported by `lethe export-web` into `static/models/`, and keeps every computation it shows —
//! decoding and resizing pictures, softmax, top-k, before/after deltas — in `lethe_shared`, where
//! it is unit-tested natively. The modules here only fetch, schedule and render:
//!
//! - `engine`: picks WebGPU when the browser offers an adapter, else Burn's CPU backend
//!   (burn-flex, wasm SIMD), caches loaded models and times each inference;
//! - `platform`: `fetch`, files, the clock and the canvas;
//! - `live`: "Forget it live" — PruneLoRA in a Web Worker (`live-worker.js`), and the panel's
//!   signals;
//! - `state`: the page's signals and what happens when a selection changes;
//! - `app`: the components.
//!
//! Everything is compiled for `wasm32` only; natively this crate is empty.

#![cfg(target_arch = "wasm32")]

mod app;
mod engine;
mod live;
mod platform;
mod state;

use wasm_bindgen::prelude::wasm_bindgen;

unsafe extern "C" {
    /// Synthesised by wasm-ld: runs the module's static constructors (the `inventory`
    /// registrations of cubecl's IR crate, `pliron`).
    fn __wasm_call_ctors();
}

/// Entry point: called by the generated JavaScript once the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    // Run the constructors once, here. Without an explicit call wasm-ld links the module
    // "command style" and wraps *every* export (each event handler, each resumed future) in a
    // call to `__wasm_call_ctors`, which re-ran all the registrations on every call into the
    // module (13 % of the page's CPU profile; docs/performance.md). See the `inventory` crate's
    // "WebAssembly and constructors" notes.
    // SAFETY: called exactly once, first thing after instantiation, before any code that reads
    // the registries; the constructors only register static items.
    unsafe { __wasm_call_ctors() };
    console_error_panic_hook::set_once();
    // The live-forgetting worker (live-worker.js) instantiates this same module: it has no
    // window and only uses `live::LiveSession`.
    if web_sys::window().is_some() {
        leptos::mount::mount_to_body(app::App);
    }
}
