//! Per-call overhead of each layer (placeholder until the layers land).

fn main() {}
