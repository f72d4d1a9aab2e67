//! What the benches share.

/// The arguments after `cargo bench --bench NAME --`, without the `--bench` flag cargo adds.
pub fn args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect()
}
