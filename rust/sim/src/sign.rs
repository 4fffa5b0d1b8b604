//! Signature comparison for the simulator's verifiers (each venue's own signing is in
//! its folder: `mexc/sign.rs`, `gate/sign.rs`).

/// Constant-time comparison of two hex signatures, case-insensitive (a client may send
/// either case).
pub fn signatures_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| {
        acc | (x.to_ascii_lowercase() ^ y.to_ascii_lowercase())
    }) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_comparison() {
        assert!(signatures_equal("abCD", "ABcd"));
        assert!(!signatures_equal("abcd", "abce"));
        assert!(!signatures_equal("abc", "abcd"));
    }
}
