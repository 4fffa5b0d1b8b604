//! arb-core: the vocabulary every arbhybrid crate shares — exact fixed-point numbers,
//! venues, the error classification and MEXC's protobuf push messages (each venue's
//! request signing lives with its adapter in arb-exec, and the simulator has its own).
//!
//! Nothing here allocates on the hot path or knows about Python.

pub mod error;
pub mod fixed;
pub mod mexc_proto;
pub mod side;
pub mod time;
pub mod venue;

pub use error::ErrorClass;
pub use fixed::{format_scaled, parse_scaled, FixedError};
pub use side::Side;
pub use venue::Venue;
