//! "Forget it live": PruneLoRA run in the page, in Web Workers, so the page stays responsive
//! while it trains.
//!
//! Two halves of one module, both compiled into the same wasm:
//! - inside the workers, exported to JavaScript: [`LiveSession`] (`live-worker.js`, one or two
//!   trainers) wraps [`lethe_shared::live::LiveForget`] — the trainer's PruneLoRA set-up, step
//!   and merge, with the gradient exchange of two replicas — and [`LiveProbe`]
//!   (`live-probe-worker.js`) measures model snapshots on the probe set; every answer is a
//!   [`LiveMessage`] as JSON;
//! - [`LiveState`], on the page: starts / pauses / resumes / cancels the workers and turns their
//!   messages into signals the panel renders.
//!
//! The workers decode their own copies of the original weights, so cancelling (terminating the
//! workers) can never touch the models the page shows.

use std::cell::RefCell;

use burn::tensor::Device;
use leptos::prelude::*;
use lethe_shared::catalog::CatalogRun;
use lethe_shared::data::ImageDataset;
use lethe_shared::data::cifar10::parse_records;
use lethe_shared::live::{
    LiveError, LiveForget, LiveMessage, LiveSettings, LocalGradients, ProbeAccuracy, ProbeOf,
    probe_accuracy,
};
use lethe_shared::model::ModelConfig;
use lethe_shared::weights::{decode_model, encode_model};
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
    started: String,
}

fn json(message: &LiveMessage) -> String {
    serde_json::to_string(message).unwrap_or_else(|error| {
        format!(r#"{{"kind":"failed","message":"cannot encode a report: {error}"}}"#)
    })
}

fn failed(error: impl std::fmt::Display) -> String {
    json(&LiveMessage::Failed {
        message: error.to_string(),
    })
}

fn js_error(error: impl std::fmt::Display) -> JsError {
    JsError::new(&error.to_string())
}

#[wasm_bindgen]
impl LiveSession {
    /// Decode the original model, read the subsets, prune and attach adapters (on the CPU), then
    /// move the model to WebGPU when `prefer_gpu` and the worker gets an adapter, else keep it
    /// on the CPU. `image` is the chosen picture, planar bytes; `probe_records` is only used
    /// when training on WebGPU (on the CPU, `live-probe-worker.js` measures snapshots).
    pub async fn create(
        weights: Vec<u8>,
        model_json: String,
        train_records: Vec<u8>,
        probe_records: Vec<u8>,
        settings_json: String,
        image: Vec<u8>,
        prefer_gpu: bool,
    ) -> Result<LiveSession, JsError> {
        let model: ModelConfig = serde_json::from_str(&model_json)
            .map_err(|e| JsError::new(&format!("model description: {e}")))?;
        let settings: LiveSettings = serde_json::from_str(&settings_json)
            .map_err(|e| JsError::new(&format!("live settings: {e}")))?;
        let train =
            parse_records(std::path::Path::new("train.bin"), &train_records).map_err(js_error)?;
        let probe =
            parse_records(std::path::Path::new("probe.bin"), &probe_records).map_err(js_error)?;
        let cpu = Device::flex();
        let original = decode_model(weights, &model, &cpu.clone().autodiff()).map_err(js_error)?;
        let (device, backend) = if prefer_gpu {
            match Device::wgpu_options().init_async().await {
                Ok(device) => (device, String::from("WebGPU")),
                Err(reason) => {
                    web_sys::console::info_1(
                        &format!("live forgetting: WebGPU unavailable: {reason:?}").into(),
                    );
                    (
                        cpu,
                        String::from("CPU (wasm SIMD): the browser offered no WebGPU adapter"),
                    )
                }
            }
        } else {
            (cpu, String::from("CPU (wasm SIMD)"))
        };
        let live =
            LiveForget::start(original, &model, &train, settings, &device).map_err(js_error)?;
        let probabilities = live.probabilities(&image).await.map_err(js_error)?;
        let started = json(&LiveMessage::Started {
            total_steps: live.settings().steps,
            retain_images: live.retain_images(),
            backend,
            probabilities,
        });
        Ok(LiveSession {
            live: Some(live),
            probe,
            image,
            started,
        })
    }

    /// The `started` message.
    pub fn started(&self) -> String {
        self.started.clone()
    }

    /// Whether the step budget is spent (or the run failed).
    pub fn is_done(&self) -> bool {
        self.live.as_ref().is_none_or(LiveForget::is_done)
    }

    /// Whether the probe set is due after the step just taken.
    pub fn evaluation_due(&self) -> bool {
        self.live.as_ref().is_some_and(LiveForget::evaluation_due)
    }

    /// Whether training runs on the CPU (then the probe worker measures snapshots).
    pub fn on_cpu(&self) -> bool {
        self.live.as_ref().is_some_and(LiveForget::on_cpu)
    }

    /// Steps done.
    pub fn steps_done(&self) -> usize {
        self.live.as_ref().map_or(0, LiveForget::steps_done)
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
                failed(error)
            }
        }
    }

    /// Train as replica `index` of `count` workers splitting every mini-batch
    /// ([`LiveForget::set_replica`]).
    pub fn set_replica(&mut self, index: usize, count: usize) -> Result<(), JsError> {
        let live = self
            .live
            .as_mut()
            .ok_or_else(|| JsError::new("the run has ended"))?;
        live.set_replica(index, count).map_err(js_error)
    }

    /// Forward and backward on this replica's share of the next mini-batch, for the other
    /// replica: `[loss, images, gradient values…]`.
    pub async fn gradients(&mut self) -> Result<Vec<f32>, JsError> {
        let live = self
            .live
            .as_mut()
            .ok_or_else(|| JsError::new("the run has ended"))?;
        let share = live.gradients().await.map_err(js_error)?;
        let mut flat = Vec::with_capacity(share.values.len() + 2);
        flat.push(share.loss);
        flat.push(share.images as f32);
        flat.extend_from_slice(&share.values);
        Ok(flat)
    }

    /// Apply the average of both replicas' [`LiveSession::gradients`] (in replica order, the
    /// same on both): with `report`, a `step` message, else an empty string; `failed` on error.
    pub async fn apply(&mut self, first: Vec<f32>, second: Vec<f32>, report: bool) -> String {
        let unflatten = |flat: Vec<f32>| {
            let images = flat.get(1).copied().unwrap_or(0.0) as usize;
            LocalGradients {
                loss: flat.first().copied().unwrap_or(f32::NAN),
                images,
                values: flat.get(2..).map(<[f32]>::to_vec).unwrap_or_default(),
            }
        };
        let (first, second) = (unflatten(first), unflatten(second));
        let Some(live) = self.live.as_mut() else {
            return failed("the run has ended");
        };
        let loss = match live.apply(&[&first, &second]) {
            Ok(loss) => loss,
            Err(error) => {
                self.live = None;
                return failed(error);
            }
        };
        if !report {
            return String::new();
        }
        match live.probabilities(&self.image).await {
            Ok(probabilities) => json(&LiveMessage::Step {
                step: live.steps_done(),
                loss,
                probabilities,
            }),
            Err(error) => failed(error),
        }
    }

    /// The live model, adapters folded into a copy, as Burnpack bytes (for the probe worker).
    pub fn snapshot(&self) -> Result<Vec<u8>, JsError> {
        let live = self
            .live
            .as_ref()
            .ok_or_else(|| JsError::new("the run has ended"))?;
        let model = live.snapshot().map_err(js_error)?;
        encode_model(&model).map_err(js_error)
    }

    /// Measure the live model on the probe set here (when training on WebGPU): a `probe`
    /// message.
    pub async fn probe(&self) -> String {
        let Some(live) = self.live.as_ref() else {
            return failed("the run has ended");
        };
        match live.probe_accuracy(&self.probe).await {
            Ok(accuracy) => json(&LiveMessage::Probe {
                of: ProbeOf::Step(live.steps_done()),
                accuracy,
            }),
            Err(error) => failed(error),
        }
    }

    /// End the run: a `finished` message (the last snapshot went to the probe worker).
    pub fn finish(&mut self) -> String {
        match self.live.take() {
            Some(live) => json(&LiveMessage::Finished {
                step: live.steps_done(),
            }),
            None => failed("the run has ended"),
        }
    }
}

impl LiveSession {
    async fn try_step(&mut self) -> Result<LiveMessage, LiveError> {
        let live = self
            .live
            .as_mut()
            .ok_or(LiveError::BadSettings("the run has ended".into()))?;
        let loss = live.step().await?;
        Ok(LiveMessage::Step {
            step: live.steps_done(),
            loss,
            probabilities: live.probabilities(&self.image).await?,
        })
    }
}

/// The probe set measured in a second worker (`live-probe-worker.js`), on the machine's other
/// core, so training never waits for it: every message is Burnpack bytes of a plain model.
#[wasm_bindgen]
pub struct LiveProbe {
    probe: ImageDataset,
    model: ModelConfig,
    forget_class: u8,
    device: Device,
}

#[wasm_bindgen]
impl LiveProbe {
    /// The probe set's records, the architecture (JSON) and the class being forgotten.
    #[wasm_bindgen(constructor)]
    pub fn new(
        probe_records: Vec<u8>,
        model_json: &str,
        forget_class: u8,
    ) -> Result<LiveProbe, JsError> {
        Ok(LiveProbe {
            probe: parse_records(std::path::Path::new("probe.bin"), &probe_records)
                .map_err(js_error)?,
            model: serde_json::from_str(model_json)
                .map_err(|e| JsError::new(&format!("model description: {e}")))?,
            forget_class,
            device: Device::flex(),
        })
    }

    /// Measure the live model after `step` steps: a `probe` message.
    pub async fn step(&self, weights: Vec<u8>, step: usize) -> String {
        self.measure(weights, ProbeOf::Step(step)).await
    }

    /// Measure the original model: a `probe` message.
    pub async fn original(&self, weights: Vec<u8>) -> String {
        self.measure(weights, ProbeOf::Original).await
    }

    /// Measure the shipped native run of the same class: a `probe` message.
    pub async fn native(&self, weights: Vec<u8>) -> String {
        self.measure(weights, ProbeOf::Native).await
    }
}

impl LiveProbe {
    async fn measure(&self, weights: Vec<u8>, of: ProbeOf) -> String {
        let model = match decode_model(weights, &self.model, &self.device) {
            Ok(model) => model,
            Err(error) => return failed(format!("probe worker: {error}")),
        };
        match probe_accuracy(&model, &self.probe, self.forget_class, &self.device).await {
            Ok(accuracy) => json(&LiveMessage::Probe { of, accuracy }),
            Err(error) => failed(error),
        }
    }
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

/// The two workers of a run: the trainer (`live-worker.js`) and the probe worker
/// (`live-probe-worker.js`), joined by a `MessageChannel`.
struct Workers {
    trainer: Option<WorkerHandle>,
    helper: Option<WorkerHandle>,
    prober: Option<WorkerHandle>,
}

thread_local! {
    static WORKERS: RefCell<Workers> =
        const { RefCell::new(Workers { trainer: None, helper: None, prober: None }) };
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
        self.stop_workers();
        self.reset_view();
        self.phase.set(LivePhase::Preparing);
        if let Err(message) = self.spawn_run(original, native, image, settings) {
            self.stop_workers();
            self.phase.set(LivePhase::Failed(message));
        }
    }

    fn spawn_run(
        self,
        original: &CatalogRun,
        native: Option<&CatalogRun>,
        image: &[u8],
        settings: &LiveSettings,
    ) -> Result<(), String> {
        let trainer = spawn_worker(self, "live-worker.js")?;
        let prober = spawn_worker(self, "live-probe-worker.js")?;
        let channel = web_sys::MessageChannel::new().map_err(|e| format!("{e:?}"))?;
        // A second trainer on a second core shares every mini-batch (trainers exchange
        // gradients over `peers`); the leader dismisses it when it trains on WebGPU.
        let cores =
            web_sys::window().map_or(1.0, |window| window.navigator().hardware_concurrency());
        let helper = if cores >= 2.0 {
            Some(spawn_worker(self, "live-worker.js")?)
        } else {
            None
        };
        let peers = web_sys::MessageChannel::new().map_err(|e| format!("{e:?}"))?;
        let model_json = serde_json::to_string(&original.model).map_err(|e| e.to_string())?;
        let probe_url = format!("{LIVE_DIR}/probe.bin");

        let message = js_sys::Object::new();
        let set = |object: &js_sys::Object, key: &str, value: &wasm_bindgen::JsValue| {
            let _ = js_sys::Reflect::set(object, &key.into(), value);
        };
        set(&message, "type", &"start".into());
        set(&message, "weights", &original.weights.as_str().into());
        set(&message, "model", &model_json.as_str().into());
        set(&message, "train", &format!("{LIVE_DIR}/train.bin").into());
        set(&message, "probe", &probe_url.as_str().into());
        let settings_json = serde_json::to_string(settings).map_err(|e| e.to_string())?;
        set(&message, "settings", &settings_json.into());
        set(&message, "image", &js_sys::Uint8Array::from(image).into());
        // The page's `?backend=cpu` keeps the worker on the CPU too.
        let prefer_gpu = query_parameter("backend").is_none_or(|value| value != "cpu");
        set(&message, "preferGpu", &prefer_gpu.into());
        set(&message, "role", &"leader".into());
        set(&message, "port", &channel.port1());
        let transfer = js_sys::Array::of1(&channel.port1());
        if helper.is_some() {
            set(&message, "peer", &peers.port1());
            transfer.push(&peers.port1());
        }
        trainer
            .worker
            .post_message_with_transfer(&message, &transfer)
            .map_err(|e| format!("{e:?}"))?;
        if let Some(helper) = &helper {
            let _ = js_sys::Reflect::delete_property(&message, &"port".into());
            set(&message, "role", &"helper".into());
            set(&message, "peer", &peers.port2());
            set(&message, "image", &js_sys::Uint8Array::from(image).into());
            helper
                .worker
                .post_message_with_transfer(&message, &js_sys::Array::of1(&peers.port2()))
                .map_err(|e| format!("{e:?}"))?;
        }

        let message = js_sys::Object::new();
        set(&message, "type", &"start".into());
        set(&message, "probe", &probe_url.into());
        set(&message, "model", &model_json.into());
        set(&message, "forgetClass", &settings.forget_class.into());
        if let Some(native) = native {
            set(&message, "nativeWeights", &native.weights.as_str().into());
        }
        set(&message, "port", &channel.port2());
        let transfer = js_sys::Array::of1(&channel.port2());
        prober
            .worker
            .post_message_with_transfer(&message, &transfer)
            .map_err(|e| format!("{e:?}"))?;
        WORKERS.with(|workers| {
            let mut workers = workers.borrow_mut();
            workers.trainer = Some(trainer);
            workers.helper = helper;
            workers.prober = Some(prober);
        });
        Ok(())
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
            self.stop_workers();
            self.phase.set(LivePhase::Cancelled);
        }
    }

    /// Back to the start: no run, nothing shown.
    pub fn reset(self) {
        self.stop_workers();
        self.reset_view();
        self.phase.set(LivePhase::Idle);
    }

    /// Follow another picture (while a run is active).
    pub fn follow_image(self, image: &[u8]) {
        WORKERS.with(|workers| {
            if let Some(handle) = workers.borrow().trainer.as_ref() {
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

    fn stop_workers(self) {
        WORKERS.with(|workers| {
            let mut workers = workers.borrow_mut();
            for handle in [
                workers.trainer.take(),
                workers.helper.take(),
                workers.prober.take(),
            ]
            .into_iter()
            .flatten()
            {
                handle.worker.terminate();
            }
        });
    }

    /// The trainers are done; the probe worker goes on until its last measurement.
    fn stop_trainer(self) {
        WORKERS.with(|workers| {
            let mut workers = workers.borrow_mut();
            for handle in [workers.trainer.take(), workers.helper.take()]
                .into_iter()
                .flatten()
            {
                handle.worker.terminate();
            }
        });
    }

    /// Apply one message of a worker.
    fn receive(self, message: LiveMessage) {
        let now = now_ms();
        match message {
            LiveMessage::Started {
                total_steps,
                retain_images,
                backend,
                probabilities,
            } => {
                self.backend.set(Some(backend));
                self.total_steps.set(total_steps);
                self.retain_images.set(retain_images);
                self.probabilities.set(probabilities);
                self.last_tick.set_value(now);
                self.phase.set(LivePhase::Running);
            }
            LiveMessage::Step {
                step,
                loss,
                probabilities,
            } => {
                if self.phase.get_untracked() == LivePhase::Running {
                    let elapsed = now - self.last_tick.get_value();
                    self.training_ms.update(|total| *total += elapsed);
                }
                self.last_tick.set_value(now);
                self.step.set(step);
                self.losses.update(|losses| losses.push(loss));
                self.probabilities.set(probabilities);
            }
            LiveMessage::Probe { of, accuracy } => match of {
                ProbeOf::Original => self.original.set(Some(accuracy)),
                ProbeOf::Native => self.native.set(Some(accuracy)),
                ProbeOf::Step(step) => self.probes.update(|probes| {
                    probes.push(ProbePoint { step, accuracy });
                    probes.sort_by_key(|point| point.step);
                }),
            },
            LiveMessage::Finished { step } => {
                self.step.set(step);
                self.stop_trainer();
                self.phase.set(LivePhase::Finished);
            }
            LiveMessage::Failed { message } => {
                self.stop_workers();
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
    WORKERS.with(|workers| {
        workers.borrow().trainer.as_ref().is_some_and(|handle| {
            let message = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&message, &"type".into(), &kind.into());
            handle.worker.post_message(&message).is_ok()
        })
    })
}

fn spawn_worker(state: LiveState, script: &str) -> Result<WorkerHandle, String> {
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    let worker = Worker::new_with_options(script, &options)
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
