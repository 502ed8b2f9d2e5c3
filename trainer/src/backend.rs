//! The one place that chooses where tensors live.
//!
//! The CPU backend (burn-flex) is always compiled. The `wgpu` and `cuda` cargo features add GPU
//! backends; `--backend` picks one at run time and defaults to the most capable one compiled in.

use burn::tensor::Device;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// A compute backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// burn-flex on the CPU (multi-threaded with rayon, SIMD).
    Cpu,
    /// burn-wgpu: Vulkan, Metal, DX12 or WebGPU (build with `--features wgpu`).
    Wgpu,
    /// burn-cuda on an NVIDIA GPU (build with `--features cuda`).
    Cuda,
}

impl Backend {
    /// The most capable backend compiled into this binary.
    pub fn best_available() -> Self {
        if cfg!(feature = "cuda") {
            Backend::Cuda
        } else if cfg!(feature = "wgpu") {
            Backend::Wgpu
        } else {
            Backend::Cpu
        }
    }

    /// The inference device of this backend, or an error naming the missing cargo feature.
    pub fn device(self) -> anyhow::Result<Device> {
        match self {
            Backend::Cpu => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Ok(Device::cuda(0)),
            #[allow(unreachable_patterns)]
            other => anyhow::bail!(
                "the {other:?} backend is not compiled into this binary: rebuild with `cargo build --release --features {}`",
                other.feature()
            ),
        }
    }

    /// The same device with autodiff, for training.
    pub fn training_device(self) -> anyhow::Result<Device> {
        Ok(self.device()?.autodiff())
    }

    fn feature(self) -> &'static str {
        match self {
            Backend::Cpu => "(none)",
            Backend::Wgpu => "wgpu",
            Backend::Cuda => "cuda",
        }
    }
}
