//! Peak device memory on GPU backends: spec §4's "peak memory" is the process's peak RSS on the
//! CPU ([`lethe_shared::metrics::peak_rss_bytes`]) and the peak device allocation on a GPU.
//!
//! Burn's GPU backends (CubeCL: wgpu, CUDA) allocate from memory pools that keep their pages
//! for reuse, and report what they hold through [`Device::memory_pool_usage`]. The training
//! loops call [`sample_device_memory`] after every optimizer step; the highest
//! `bytes_reserved` seen since the last [`reset_peak_device_memory`] is the run's peak — the
//! counterpart of PyTorch's `torch.cuda.max_memory_reserved()`, pages held for reuse included.
//! On the CPU backend the device reports nothing and every function here gives `None`.

use std::sync::atomic::{AtomicU64, Ordering};

use burn::tensor::Device;

/// Highest reserved byte count seen since the last reset (0: none seen).
static PEAK_RESERVED_BYTES: AtomicU64 = AtomicU64::new(0);

const MIB: f64 = 1024.0 * 1024.0;

/// Read the bytes `device`'s allocator reserves now and keep the highest reading. `None` on a
/// backend without pooled device memory (the CPU).
pub fn sample_device_memory(device: &Device) -> Option<u64> {
    let reserved = device.memory_pool_usage()?.bytes_reserved;
    PEAK_RESERVED_BYTES.fetch_max(reserved, Ordering::Relaxed);
    Some(reserved)
}

/// The highest reading since the last reset, MiB; `None` when nothing was read (CPU runs).
pub fn peak_device_mib() -> Option<f64> {
    let bytes = PEAK_RESERVED_BYTES.load(Ordering::Relaxed);
    (bytes > 0).then(|| bytes as f64 / MIB)
}

/// Hand `devices`' unused pages back and forget the peak, so the next readings measure what
/// follows (`lethe compare` runs methods one after another in one process).
pub fn reset_peak_device_memory(devices: &[&Device]) {
    for device in devices {
        device.memory_cleanup();
    }
    PEAK_RESERVED_BYTES.store(0, Ordering::Relaxed);
    for device in devices {
        sample_device_memory(device);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_backend_reports_no_device_memory() {
        let device = crate::backend::Backend::Cpu.training_device().unwrap();
        reset_peak_device_memory(&[&device]);
        assert_eq!(sample_device_memory(&device), None);
        assert_eq!(peak_device_mib(), None);
    }
}
