//! Shared helpers for weir's integration tests live in `tests/`.
