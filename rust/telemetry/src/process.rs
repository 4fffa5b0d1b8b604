//! Facts about this process the metrics need: its resident memory.

/// Resident set size in bytes. `/proc/self/statm` counts pages and the page size would
/// need a libc call (it is 64 KiB on some arm64 kernels), so this reads `VmRSS` from
/// `/proc/self/status`, which the kernel already gives in kB. `None` where `/proc` is
/// not available.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn rss_grows_when_memory_is_touched() {
        let before = super::rss_bytes().unwrap();
        assert!(before > 0);
        let v = vec![1u8; 64 * 1024 * 1024];
        let after = super::rss_bytes().unwrap();
        assert!(after >= before + 32 * 1024 * 1024, "{before} -> {after}");
        drop(std::hint::black_box(v));
    }
}
