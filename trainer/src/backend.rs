//! The one place that chooses where tensors live.
//!
//! The CPU backend (burn-flex) is always compiled. The `wgpu` and `cuda` cargo features add GPU
//! backends; `--backend` picks one at run time and defaults to the most capable one compiled in.

use burn::tensor::Device;
use clap::ValueEnum;
use lethe_shared::weights::Versions;
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

    /// The versions to record with a run on this backend: Lethe's and Burn's, and for the CPU
    /// the matrix kernels in use ([`cpu_kernels`]).
    pub fn versions(self) -> Versions {
        Versions {
            cpu_kernels: (self == Backend::Cpu).then(|| cpu_kernels().to_owned()),
            ..Versions::default()
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

/// The widest matrix kernels the CPU backend uses on this machine: burn-flex's `gemm` picks them
/// at run time from what the CPU offers, and AVX-512 only when built with `--features avx512`.
pub fn cpu_kernels() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if cfg!(feature = "avx512") && std::arch::is_x86_feature_detected!("avx512f") {
            return "x86-v4 (AVX-512)";
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return "x86-v3 (AVX2, FMA)";
        }
        "x86-64 baseline (SSE2)"
    }
    #[cfg(target_arch = "aarch64")]
    {
        "aarch64 (NEON)"
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        std::env::consts::ARCH
    }
}
