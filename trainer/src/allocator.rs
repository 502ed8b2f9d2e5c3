//! Keep freed tensor buffers in the process instead of handing them back to the kernel.
//!
//! burn-flex allocates a fresh buffer for every operation's output and frees it soon after.
//! With glibc's defaults, buffers above the (dynamic) mmap threshold are `mmap`ed and
//! `munmap`ed each time, and free memory above 128 KiB at the top of the heap is trimmed back
//! to the kernel, so the next step page-faults the same memory in again and the kernel zeroes
//! it: a profile of a ResNet-20 training step spent ~9 % of its samples in page faults, and
//! `sys` time was a third of `user` time for vit-tiny. Raising both thresholds makes those
//! buffers come back from the heap instead (measured in `docs/performance.md`,
//! "Optimisations": −11 % ResNet-20 and −16 % vit-tiny training-step time, peak RSS unchanged
//! at batch 128).
//!
//! Other allocators were measured too (LD_PRELOAD of Debian's mimalloc 2.0 and jemalloc 5.3):
//! both return memory to the kernel sooner and were slower than glibc's defaults.

/// The largest mmap threshold glibc accepts on 64-bit targets (`HEAP_MAX_SIZE / 2`): buffers up
/// to this size come from the heap.
pub const MMAP_THRESHOLD_BYTES: i32 = 32 * 1024 * 1024;
/// Free memory kept at the top of the heap before glibc trims it back to the kernel.
pub const TRIM_THRESHOLD_BYTES: i32 = 256 * 1024 * 1024;

/// Apply [`MMAP_THRESHOLD_BYTES`] and [`TRIM_THRESHOLD_BYTES`] to glibc's allocator; returns
/// whether glibc accepted both. A no-op returning `false` on other platforms and C libraries.
/// Call it once, first thing in `main`: it changes only how freed memory is kept, never what a
/// computation gives.
pub fn keep_freed_buffers() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY (both calls): mallopt only changes glibc's allocation parameters; both values
        // are in the ranges glibc documents, and it reports a rejected value by returning 0.
        // Both are applied even if glibc rejects the first.
        let mmap = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) };
        let trim = unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) };
        mmap == 1 && trim == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn glibc_accepts_both_thresholds() {
        assert!(super::keep_freed_buffers());
    }
}
