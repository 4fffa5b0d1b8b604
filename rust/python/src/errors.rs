//! Python exception classes, mapped from `arb_core::ErrorClass` in one place.

use arb_core::ErrorClass;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    _native,
    ArbError,
    PyException,
    "Base class of every arbhybrid error."
);
create_exception!(
    _native,
    NetworkError,
    ArbError,
    "Connection failed before the request was written."
);
create_exception!(_native, RequestTimeout, ArbError, "No answer in time.");
create_exception!(
    _native,
    RateLimitError,
    ArbError,
    "The venue or our limiter said slow down."
);
create_exception!(
    _native,
    AuthenticationError,
    ArbError,
    "Bad key, signature, timestamp or permission."
);
create_exception!(
    _native,
    InvalidOrderError,
    ArbError,
    "The venue refused the order as invalid."
);
create_exception!(
    _native,
    InsufficientFundsError,
    ArbError,
    "Not enough balance for the order."
);
create_exception!(
    _native,
    SymbolNotTradableError,
    ArbError,
    "The symbol cannot be traded through the API."
);
create_exception!(
    _native,
    VenueError,
    ArbError,
    "The venue answered with an unclassified error."
);
create_exception!(
    _native,
    UnknownOutcomeError,
    ArbError,
    "The request may have taken effect: query, never resend."
);
create_exception!(
    _native,
    MalformedError,
    ArbError,
    "A frame or response could not be parsed."
);

/// Builds the Python exception for an error of `class` with `message`.
pub fn py_err(class: ErrorClass, message: impl Into<String>) -> PyErr {
    let m = message.into();
    match class {
        ErrorClass::Network => NetworkError::new_err(m),
        ErrorClass::Timeout => RequestTimeout::new_err(m),
        ErrorClass::RateLimit => RateLimitError::new_err(m),
        ErrorClass::Authentication => AuthenticationError::new_err(m),
        ErrorClass::InvalidOrder => InvalidOrderError::new_err(m),
        ErrorClass::InsufficientFunds => InsufficientFundsError::new_err(m),
        ErrorClass::SymbolNotTradable => SymbolNotTradableError::new_err(m),
        ErrorClass::Venue => VenueError::new_err(m),
        ErrorClass::UnknownOutcome => UnknownOutcomeError::new_err(m),
        ErrorClass::Malformed => MalformedError::new_err(m),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ArbError", py.get_type::<ArbError>())?;
    m.add("NetworkError", py.get_type::<NetworkError>())?;
    m.add("RequestTimeout", py.get_type::<RequestTimeout>())?;
    m.add("RateLimitError", py.get_type::<RateLimitError>())?;
    m.add("AuthenticationError", py.get_type::<AuthenticationError>())?;
    m.add("InvalidOrderError", py.get_type::<InvalidOrderError>())?;
    m.add(
        "InsufficientFundsError",
        py.get_type::<InsufficientFundsError>(),
    )?;
    m.add(
        "SymbolNotTradableError",
        py.get_type::<SymbolNotTradableError>(),
    )?;
    m.add("VenueError", py.get_type::<VenueError>())?;
    m.add("UnknownOutcomeError", py.get_type::<UnknownOutcomeError>())?;
    m.add("MalformedError", py.get_type::<MalformedError>())?;
    Ok(())
}
