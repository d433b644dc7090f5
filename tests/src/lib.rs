//! Empty library: this package exists to hold the `it` integration test binary.
