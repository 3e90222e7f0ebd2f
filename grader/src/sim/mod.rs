//! The deterministic cluster simulator (written next).
