//! arb-core: the vocabulary every arbhybrid crate shares — exact fixed-point numbers,
//! venues and the error classification (MEXC's protobuf messages and each venue's
//! request signing live with that venue's adapters; the simulator has its own).
//!
//! Nothing here allocates on the hot path or knows about Python.

pub mod error;
pub mod fixed;
pub mod side;
pub mod time;
pub mod venue;

pub use error::ErrorClass;
pub use fixed::{format_scaled, parse_scaled, FixedError};
pub use side::Side;
pub use venue::{Route, Venue, VenueKind, VenueMap, MAX_VENUES};
