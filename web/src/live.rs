//! "Forget it live": PruneLoRA run in the page, in a Web Worker (`live-worker.js`), so the page
//! stays responsive while it trains.
//!
//! Two halves of one module, both compiled into the same wasm:
//! - [`LiveSession`], exported to JavaScript and used *inside the worker*: it wraps
//!   [`lethe_shared::live::LiveForget`] (the trainer's PruneLoRA set-up, step and merge) and
//!   answers every call with a [`LiveMessage`] as JSON;
//! - [`LiveState`], on the page: starts / pauses / resumes / cancels the worker and turns its
//!   messages into signals the panel renders.
//!
//! The worker decodes its own copy of the original weights, so cancelling (terminating the
//! worker) can never touch the models the page shows.

use std::cell::RefCell;

use burn::tensor::Device;
use leptos::prelude::*;
use lethe_shared::catalog::CatalogRun;
use lethe_shared::data::ImageDataset;
use lethe_shared::data::cifar10::parse_records;
use lethe_shared::live::{
    LiveError, LiveForget, LiveMessage, LiveSettings, ProbeAccuracy, probe_accuracy,
};
use lethe_shared::model::ModelConfig;
use lethe_shared::weights::decode_model;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsError, wasm_bindgen};
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::platform::{now_ms, query_parameter};

/// Where the page's live subsets are (written by `lethe export-live`).
pub const LIVE_DIR: &str = "live/cifar10";

// ---------------------------------------------------------------------------------------------
// Inside the worker.

/// A live PruneLoRA run, driven step by step by `live-worker.js`.
#[wasm_bindgen]
pub struct LiveSession {
    live: Option<LiveForget>,
    probe: ImageDataset,
    image: Vec<u8>,
    device: Device,
    started: String,
}

fn json(message: &LiveMessage) -> String {
    serde_json::to_string(message).unwrap_or_else(|error| {
        format!(r#"{{"kind":"failed","message":"cannot encode a report: {error}"}}"#)
    })
}

#[wasm_bindgen]
impl LiveSession {
    /// Decode the original model, read the subsets, measure the original on the probe set,
    /// prune and attach adapters (on the CPU), then move the model to WebGPU when `prefer_gpu`
    /// and the worker gets an adapter, else keep it on the CPU. `image` is the chosen picture,
    /// planar bytes.
    pub async fn create(
        weights: Vec<u8>,
        model_json: String,
        train_records: Vec<u8>,
        probe_records: Vec<u8>,
        settings_json: String,
        image: Vec<u8>,
        prefer_gpu: bool,
    ) -> Result<LiveSession, JsError> {
        let error = |error: &dyn std::fmt::Display| JsError::new(&error.to_string());
        let model: ModelConfig = serde_json::from_str(&model_json)
            .map_err(|e| JsError::new(&format!("model description: {e}")))?;
        let settings: LiveSettings = serde_json::from_str(&settings_json)
            .map_err(|e| JsError::new(&format!("live settings: {e}")))?;
        let train = parse_records(std::path::Path::new("train.bin"), &train_records)
            .map_err(|e| error(&e))?;
        let probe = parse_records(std::path::Path::new("probe.bin"), &probe_records)
            .map_err(|e| error(&e))?;
        let cpu = Device::flex();
        let original =
            decode_model(weights, &model, &cpu.clone().autodiff()).map_err(|e| error(&e))?;
        let forget_class = settings.forget_class;
        let original_probe = probe_accuracy(&original, &probe, forget_class, &cpu)
            .await
            .map_err(|e| error(&e))?;
        let (device, backend) = if prefer_gpu {
            match Device::wgpu_options().init_async().await {
                Ok(device) => (device, String::from("WebGPU")),
                Err(reason) => (
                    cpu,
                    format!("CPU (wasm SIMD): no WebGPU adapter ({reason:?})"),
                ),
            }
        } else {
            (cpu, String::from("CPU (wasm SIMD)"))
        };
        let live = LiveForget::start(original, &model, &train, settings, &device)
            .map_err(|e| error(&e))?;
        let pruned = live.probe_accuracy(&probe).await.map_err(|e| error(&e))?;
        let probabilities = live.probabilities(&image).await.map_err(|e| error(&e))?;
        let started = json(&LiveMessage::Started {
            total_steps: live.settings().steps,
            retain_images: live.retain_images(),
            backend,
            original: original_probe,
            pruned,
            probabilities,
        });
        Ok(LiveSession {
            live: Some(live),
            probe,
            image,
            device,
            started,
        })
    }

    /// The `started` message (the original and the pruned model on the probe set).
    pub fn started(&self) -> String {
        self.started.clone()
    }

    /// Whether the step budget is spent (or the run failed).
    pub fn is_done(&self) -> bool {
        self.live.as_ref().is_none_or(LiveForget::is_done)
    }

    /// Follow another picture from now on.
    pub fn set_image(&mut self, image: Vec<u8>) {
        self.image = image;
    }

    /// One step: a `step` message, or `failed` (and the run ends).
    pub async fn step(&mut self) -> String {
        match self.try_step().await {
            Ok(message) => json(&message),
            Err(error) => {
                self.live = None;
                json(&LiveMessage::Failed {
                    message: error.to_string(),
                })
            }
        }
    }

    /// End the run: merge the adapters and, given the shipped native run of the same class,
    /// measure it on the same probe set. A `finished` message.
    pub async fn finish(
        &mut self,
        native_weights: Option<Vec<u8>>,
        native_model_json: Option<String>,
    ) -> String {
        let Some(live) = self.live.take() else {
            return json(&LiveMessage::Failed {
                message: "the run has ended".into(),
            });
        };
        let step = live.steps_done();
        let forget_class = live.settings().forget_class;
        if let Err(error) = live.finish() {
            return json(&LiveMessage::Failed {
                message: error.to_string(),
            });
        }
        let native = match native_weights.zip(native_model_json) {
            Some((bytes, model_json)) => {
                match native_probe(bytes, &model_json, &self.probe, forget_class, &self.device)
                    .await
                {
                    Ok(accuracy) => Some(accuracy),
                    Err(message) => {
                        web_sys::console::warn_1(
                            &format!("native run not compared: {message}").into(),
                        );
                        None
                    }
                }
            }
            None => None,
        };
        json(&LiveMessage::Finished { step, native })
    }
}

impl LiveSession {
    async fn try_step(&mut self) -> Result<LiveMessage, LiveError> {
        let live = self
            .live
            .as_mut()
            .ok_or(LiveError::BadSettings("the run has ended".into()))?;
        let loss = live.step().await?;
        let probe = if live.evaluation_due() {
            Some(live.probe_accuracy(&self.probe).await?)
        } else {
            None
        };
        Ok(LiveMessage::Step {
            step: live.steps_done(),
            loss,
            probabilities: live.probabilities(&self.image).await?,
            probe,
        })
    }
}

/// The shipped native run's accuracy on the probe set.
async fn native_probe(
    bytes: Vec<u8>,
    model_json: &str,
    probe: &ImageDataset,
    forget_class: u8,
    device: &Device,
) -> Result<ProbeAccuracy, String> {
    let model: ModelConfig = serde_json::from_str(model_json).map_err(|e| e.to_string())?;
    let model = decode_model(bytes, &model, device).map_err(|e| e.to_string())?;
    probe_accuracy(&model, probe, forget_class, device)
        .await
        .map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------
// On the page.

/// Where a live run is.
#[derive(Debug, Clone, PartialEq)]
pub enum LivePhase {
    /// Nothing running.
    Idle,
    /// The worker is fetching the subsets and pruning.
    Preparing,
    /// Training.
    Running,
    /// Paused between two steps.
    Paused,
    /// The step budget is spent.
    Finished,
    /// Cancelled by the user (the worker was terminated).
    Cancelled,
    /// Stopped with an error.
    Failed(String),
}

impl LivePhase {
    /// Label for the page (and the end-to-end test's `data-phase`).
    pub fn label(&self) -> &'static str {
        match self {
            LivePhase::Idle => "idle",
            LivePhase::Preparing => "preparing",
            LivePhase::Running => "running",
            LivePhase::Paused => "paused",
            LivePhase::Finished => "finished",
            LivePhase::Cancelled => "cancelled",
            LivePhase::Failed(_) => "failed",
        }
    }

    /// Whether a worker is alive.
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            LivePhase::Preparing | LivePhase::Running | LivePhase::Paused
        )
    }
}

/// The probe set measured after a step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbePoint {
    /// Steps done.
    pub step: usize,
    /// Accuracy then.
    pub accuracy: ProbeAccuracy,
}

/// The panel's signals. `Copy`.
#[derive(Clone, Copy)]
pub struct LiveState {
    /// Class to forget.
    pub class: RwSignal<u8>,
    /// Where the run is.
    pub phase: RwSignal<LivePhase>,
    /// Step budget.
    pub total_steps: RwSignal<usize>,
    /// Steps done.
    pub step: RwSignal<usize>,
    /// Loss of every step.
    pub losses: RwSignal<Vec<f32>>,
    /// The original model on the probe set.
    pub original: RwSignal<Option<ProbeAccuracy>>,
    /// Every probe measurement (the pruned model first, at step 0).
    pub probes: RwSignal<Vec<ProbePoint>>,
    /// The followed picture's probabilities now.
    pub probabilities: RwSignal<Vec<f32>>,
    /// The shipped native run of the same class on the probe set.
    pub native: RwSignal<Option<ProbeAccuracy>>,
    /// Milliseconds of training so far (set-up excluded, pauses excluded).
    pub training_ms: RwSignal<f64>,
    /// Images the run trains on.
    pub retain_images: RwSignal<usize>,
    /// Where the worker trains (WebGPU, or the CPU and why).
    pub backend: RwSignal<Option<String>>,
    last_tick: StoredValue<f64>,
}

struct WorkerHandle {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

thread_local! {
    static WORKER: RefCell<Option<WorkerHandle>> = const { RefCell::new(None) };
}

impl LiveState {
    /// Idle state, class 3 selected.
    pub fn new() -> Self {
        Self {
            class: RwSignal::new(3),
            phase: RwSignal::new(LivePhase::Idle),
            total_steps: RwSignal::new(0),
            step: RwSignal::new(0),
            losses: RwSignal::new(Vec::new()),
            original: RwSignal::new(None),
            probes: RwSignal::new(Vec::new()),
            probabilities: RwSignal::new(Vec::new()),
            native: RwSignal::new(None),
            training_ms: RwSignal::new(0.0),
            retain_images: RwSignal::new(0),
            backend: RwSignal::new(None),
            last_tick: StoredValue::new(0.0),
        }
    }

    /// Start forgetting the selected class: a fresh worker trains a copy of `original`,
    /// following `image`; `native` is the shipped PruneLoRA run of the same class, if any.
    pub fn start(
        self,
        original: &CatalogRun,
        native: Option<&CatalogRun>,
        image: &[u8],
        settings: &LiveSettings,
    ) {
        self.stop_worker();
        self.reset_view();
        self.phase.set(LivePhase::Preparing);
        let worker = match spawn_worker(self) {
            Ok(handle) => handle,
            Err(message) => {
                self.phase.set(LivePhase::Failed(message));
                return;
            }
        };
        let message = js_sys::Object::new();
        let set = |key: &str, value: &wasm_bindgen::JsValue| {
            let _ = js_sys::Reflect::set(&message, &key.into(), value);
        };
        set("type", &"start".into());
        set("weights", &original.weights.as_str().into());
        set(
            "model",
            &serde_json::to_string(&original.model)
                .unwrap_or_default()
                .into(),
        );
        set("train", &format!("{LIVE_DIR}/train.bin").into());
        set("probe", &format!("{LIVE_DIR}/probe.bin").into());
        set(
            "settings",
            &serde_json::to_string(settings).unwrap_or_default().into(),
        );
        set("image", &js_sys::Uint8Array::from(image).into());
        // The page's `?backend=cpu` keeps the worker on the CPU too.
        let prefer_gpu = query_parameter("backend").is_none_or(|value| value != "cpu");
        set("preferGpu", &prefer_gpu.into());
        if let Some(native) = native {
            set("nativeWeights", &native.weights.as_str().into());
            set(
                "nativeModel",
                &serde_json::to_string(&native.model)
                    .unwrap_or_default()
                    .into(),
            );
        }
        if let Err(error) = worker.worker.post_message(&message) {
            self.phase.set(LivePhase::Failed(format!("{error:?}")));
            return;
        }
        WORKER.with(|slot| *slot.borrow_mut() = Some(worker));
    }

    /// Pause between two steps.
    pub fn pause(self) {
        if self.phase.get_untracked() == LivePhase::Running && post("pause") {
            self.phase.set(LivePhase::Paused);
        }
    }

    /// Go on after a pause.
    pub fn resume(self) {
        if self.phase.get_untracked() == LivePhase::Paused && post("resume") {
            self.last_tick.set_value(now_ms());
            self.phase.set(LivePhase::Running);
        }
    }

    /// Stop now: the worker is terminated mid-step if need be; the page's models are untouched.
    pub fn cancel(self) {
        if self.phase.get_untracked().is_active() {
            self.stop_worker();
            self.phase.set(LivePhase::Cancelled);
        }
    }

    /// Back to the start: no run, nothing shown.
    pub fn reset(self) {
        self.stop_worker();
        self.reset_view();
        self.phase.set(LivePhase::Idle);
    }

    /// Follow another picture (while a run is active).
    pub fn follow_image(self, image: &[u8]) {
        WORKER.with(|slot| {
            if let Some(handle) = slot.borrow().as_ref() {
                let message = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&message, &"type".into(), &"image".into());
                let _ = js_sys::Reflect::set(
                    &message,
                    &"image".into(),
                    &js_sys::Uint8Array::from(image).into(),
                );
                let _ = handle.worker.post_message(&message);
            }
        });
    }

    /// The latest probe measurement.
    pub fn latest_probe(&self) -> Option<ProbePoint> {
        self.probes.with(|probes| probes.last().copied())
    }

    fn reset_view(self) {
        self.step.set(0);
        self.total_steps.set(0);
        self.losses.set(Vec::new());
        self.original.set(None);
        self.probes.set(Vec::new());
        self.probabilities.set(Vec::new());
        self.native.set(None);
        self.training_ms.set(0.0);
        self.retain_images.set(0);
        self.backend.set(None);
    }

    fn stop_worker(self) {
        WORKER.with(|slot| {
            if let Some(handle) = slot.borrow_mut().take() {
                handle.worker.terminate();
            }
        });
    }

    /// Apply one message of the worker.
    fn receive(self, message: LiveMessage) {
        let now = now_ms();
        match message {
            LiveMessage::Started {
                total_steps,
                retain_images,
                backend,
                original,
                pruned,
                probabilities,
            } => {
                self.backend.set(Some(backend));
                self.total_steps.set(total_steps);
                self.retain_images.set(retain_images);
                self.original.set(Some(original));
                self.probes.set(vec![ProbePoint {
                    step: 0,
                    accuracy: pruned,
                }]);
                self.probabilities.set(probabilities);
                self.last_tick.set_value(now);
                self.phase.set(LivePhase::Running);
            }
            LiveMessage::Step {
                step,
                loss,
                probabilities,
                probe,
            } => {
                if self.phase.get_untracked() == LivePhase::Running {
                    let elapsed = now - self.last_tick.get_value();
                    self.training_ms.update(|total| *total += elapsed);
                }
                self.last_tick.set_value(now);
                self.step.set(step);
                self.losses.update(|losses| losses.push(loss));
                self.probabilities.set(probabilities);
                if let Some(accuracy) = probe {
                    self.probes
                        .update(|probes| probes.push(ProbePoint { step, accuracy }));
                }
            }
            LiveMessage::Finished { step, native } => {
                self.step.set(step);
                self.native.set(native);
                self.stop_worker();
                self.phase.set(LivePhase::Finished);
            }
            LiveMessage::Failed { message } => {
                self.stop_worker();
                self.phase.set(LivePhase::Failed(message));
            }
        }
    }
}

impl Default for LiveState {
    fn default() -> Self {
        Self::new()
    }
}

fn post(kind: &str) -> bool {
    WORKER.with(|slot| {
        slot.borrow().as_ref().is_some_and(|handle| {
            let message = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&message, &"type".into(), &kind.into());
            handle.worker.post_message(&message).is_ok()
        })
    })
}

fn spawn_worker(state: LiveState) -> Result<WorkerHandle, String> {
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    let worker = Worker::new_with_options("live-worker.js", &options)
        .map_err(|error| format!("cannot start the worker: {error:?}"))?;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let text = event.data().as_string().unwrap_or_default();
        let message = serde_json::from_str::<LiveMessage>(&text).unwrap_or_else(|error| {
            LiveMessage::Failed {
                message: format!("unreadable message from the worker ({error}): {text}"),
            }
        });
        state.receive(message);
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let on_error =
        Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
            state.receive(LiveMessage::Failed {
                message: format!("the worker failed: {}", event.message()),
            });
        });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Ok(WorkerHandle {
        worker,
        _on_message: on_message,
        _on_error: on_error,
    })
}

/// SVG polyline points of a loss curve in a `width × height` box (largest loss at the top).
/// Fewer than two losses give no points.
pub fn curve_points(values: &[f32], width: f64, height: f64) -> String {
    if values.len() < 2 {
        return String::new();
    }
    let max = values.iter().copied().fold(f32::MIN, f32::max).max(1e-6) as f64;
    let last = (values.len() - 1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(index, &value)| {
            let x = width * index as f64 / last;
            let y = height * (1.0 - (value as f64 / max).clamp(0.0, 1.0));
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}
