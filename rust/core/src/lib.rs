//! arb-core: the vocabulary every arbhybrid crate shares — exact fixed-point numbers,
//! venues, the error classification and request signing.
//!
//! Nothing here allocates on the hot path or knows about Python.

pub mod error;
pub mod fixed;
pub mod side;
pub mod sign;
pub mod time;
pub mod venue;

pub use error::ErrorClass;
pub use fixed::{format_scaled, parse_scaled, FixedError};
pub use side::Side;
pub use venue::Venue;
