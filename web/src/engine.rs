//! Where the models run: WebGPU when the browser offers an adapter, else Burn's CPU backend
//! (burn-flex compiled with wasm SIMD). Loaded models are cached by run id.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use burn::module::Module;
use burn::tensor::Device;
use lethe_shared::catalog::CatalogRun;
use lethe_shared::image_input::PreparedImage;
use lethe_shared::inference::{logits, softmax};
use lethe_shared::model::Classifier;
use lethe_shared::weights::decode_model;

use crate::platform::{fetch_bytes, has_webgpu_api, now_ms, query_parameter};
use crate::state::DemoError;

/// The backend the page ended up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActiveBackend {
    /// burn-wgpu on the browser's WebGPU adapter.
    WebGpu,
    /// burn-flex on the CPU; `reason` says why WebGPU is not used.
    Cpu {
        /// Why not WebGPU.
        reason: String,
    },
}

impl ActiveBackend {
    /// Short label for the badge.
    pub fn label(&self) -> &'static str {
        match self {
            ActiveBackend::WebGpu => "WebGPU",
            ActiveBackend::Cpu { .. } => "CPU (wasm SIMD)",
        }
    }
}

/// One model's answer for one picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    /// Softmax probabilities in label order.
    pub probabilities: Vec<f32>,
    /// Wall time of the forward pass and read-back, in milliseconds.
    pub milliseconds: f64,
}

/// The device and the models loaded on it.
pub struct Engine {
    device: Device,
    backend: ActiveBackend,
    models: RefCell<HashMap<String, Rc<Classifier>>>,
}

impl Engine {
    /// Try WebGPU (unless the page was opened with `?backend=cpu`), fall back to the CPU.
    pub async fn start() -> Engine {
        let forced_cpu = query_parameter("backend").is_some_and(|value| value == "cpu");
        let (device, backend) = if forced_cpu {
            cpu("the page was opened with ?backend=cpu")
        } else if !has_webgpu_api() {
            cpu("this browser has no WebGPU (navigator.gpu)")
        } else {
            match Device::wgpu_options().init_async().await {
                Ok(device) => (device, ActiveBackend::WebGpu),
                Err(error) => {
                    web_sys::console::info_1(&format!("WebGPU unavailable: {error:?}").into());
                    cpu("the browser offered no WebGPU adapter")
                }
            }
        };
        Engine {
            device,
            backend,
            models: RefCell::new(HashMap::new()),
        }
    }

    /// The backend in use.
    pub fn backend(&self) -> &ActiveBackend {
        &self.backend
    }

    /// Whether `run`'s weights are already loaded.
    pub fn is_loaded(&self, run: &CatalogRun) -> bool {
        self.models.borrow().contains_key(&run.id)
    }

    /// The model of `run`, downloading and decoding its weights on first use.
    pub async fn model(&self, run: &CatalogRun) -> Result<Rc<Classifier>, DemoError> {
        if let Some(model) = self.models.borrow().get(&run.id) {
            return Ok(Rc::clone(model));
        }
        let bytes = fetch_bytes(&run.weights).await?;
        if bytes.len() as u64 != run.weights_bytes {
            return Err(DemoError::Weights {
                run: run.id.clone(),
                detail: format!(
                    "the file has {} bytes, the catalogue says {} (incomplete or replaced download)",
                    bytes.len(),
                    run.weights_bytes
                ),
            });
        }
        let model =
            decode_model(bytes, &run.model, &self.device).map_err(|error| DemoError::Weights {
                run: run.id.clone(),
                detail: error.to_string(),
            })?;
        // Lethe's inference path (BatchNorm folded into the convolutions: same logits, four
        // fewer element-wise passes per layer). `?batchnorm=unfolded` keeps them apart, so the
        // browser benchmark can measure what folding saves (docs/performance.md).
        let model = if query_parameter("batchnorm").is_some_and(|value| value == "unfolded") {
            model.valid()
        } else {
            model.for_inference()
        };
        let model = Rc::new(model);
        self.models
            .borrow_mut()
            .insert(run.id.clone(), Rc::clone(&model));
        Ok(model)
    }

    /// Classify one prepared picture with `model`.
    pub async fn classify(
        &self,
        model: &Classifier,
        run: &CatalogRun,
        image: &PreparedImage,
    ) -> Result<Classified, DemoError> {
        let started = now_ms();
        let row = logits(model, &image.planar, run.model.dataset, &self.device)
            .into_data_async()
            .await
            .map_err(|error| DemoError::Inference(format!("{error:?}")))?
            .iter::<f32>()
            .collect::<Vec<f32>>();
        let milliseconds = now_ms() - started;
        Ok(Classified {
            probabilities: softmax(&row),
            milliseconds,
        })
    }
}

fn cpu(reason: &str) -> (Device, ActiveBackend) {
    (
        Device::flex(),
        ActiveBackend::Cpu {
            reason: reason.to_owned(),
        },
    )
}
