//! Python exception classes, mapped from `arb_core::ErrorClass` in one place, and the
//! three errors of the bindings themselves (bad input, a start-up failure, an OS
//! resource): every exception the module raises derives from `ArbError`.

use arb_core::ErrorClass;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

create_exception!(
    arbhybrid._native,
    ArbError,
    PyException,
    "Base class of every arbhybrid error."
);
create_exception!(
    arbhybrid._native,
    NetworkError,
    ArbError,
    "Connection failed before the request was written."
);
create_exception!(
    arbhybrid._native,
    RequestTimeout,
    ArbError,
    "No answer in time."
);
create_exception!(
    arbhybrid._native,
    RateLimitError,
    ArbError,
    "The venue or our limiter said slow down."
);
create_exception!(
    arbhybrid._native,
    AuthenticationError,
    ArbError,
    "Bad key, signature, timestamp or permission."
);
create_exception!(
    arbhybrid._native,
    InvalidOrderError,
    ArbError,
    "The venue refused the order as invalid."
);
create_exception!(
    arbhybrid._native,
    InsufficientFundsError,
    ArbError,
    "Not enough balance for the order."
);
create_exception!(
    arbhybrid._native,
    SymbolNotTradableError,
    ArbError,
    "The symbol cannot be traded through the API."
);
create_exception!(
    arbhybrid._native,
    VenueError,
    ArbError,
    "The venue answered with an unclassified error."
);
create_exception!(
    arbhybrid._native,
    UnknownOutcomeError,
    ArbError,
    "The request may have taken effect: query, never resend."
);
create_exception!(
    arbhybrid._native,
    MalformedError,
    ArbError,
    "A frame or response could not be parsed."
);

// The bindings' own errors keep the builtin base they had before `ArbError` covered them
// (`except ValueError` in callers keeps working), so they need two bases, which
// `create_exception!` cannot make: they are built once with `type(name, bases, dict)`.
static INVALID_VALUE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static STARTUP: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static RESOURCE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `InvalidValueError(ArbError, ValueError)`: bad input (a configuration, an argument).
fn invalid_value_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    let t = INVALID_VALUE.get_or_try_init(py, || {
        two_based(
            py,
            "InvalidValueError",
            &py.get_type::<PyValueError>(),
            "Bad input: a configuration or argument the module cannot use.",
        )
    })?;
    Ok(t.bind(py))
}

/// `StartupError(ArbError, RuntimeError)`: something could not start (or is not running).
fn startup_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    let t = STARTUP.get_or_try_init(py, || {
        two_based(
            py,
            "StartupError",
            &py.get_type::<PyRuntimeError>(),
            "The engine, simulator, feed or stream could not start, or is not running.",
        )
    })?;
    Ok(t.bind(py))
}

/// `ResourceError(ArbError, OSError)`: a file, port or thread could not be had.
fn resource_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    let t = RESOURCE.get_or_try_init(py, || {
        two_based(
            py,
            "ResourceError",
            &py.get_type::<PyOSError>(),
            "A file, port or thread the module needs could not be had.",
        )
    })?;
    Ok(t.bind(py))
}

fn two_based(
    py: Python<'_>,
    name: &str,
    builtin: &Bound<'_, PyType>,
    doc: &str,
) -> PyResult<Py<PyType>> {
    let bases = PyTuple::new(py, [py.get_type::<ArbError>(), builtin.clone()])?;
    let ns = PyDict::new(py);
    ns.set_item("__module__", "arbhybrid._native")?;
    ns.set_item("__doc__", doc)?;
    let t = py
        .import("builtins")?
        .getattr("type")?
        .call1((name, bases, ns))?;
    Ok(t.cast_into::<PyType>()?.unbind())
}

fn raise(kind: fn(Python<'_>) -> PyResult<&Bound<'_, PyType>>, message: String) -> PyErr {
    Python::attach(|py| match kind(py) {
        Ok(t) => PyErr::from_type(t.clone(), message),
        Err(e) => e,
    })
}

/// Bad input: raised as `InvalidValueError` (an `ArbError` and a `ValueError`).
pub fn value_error(message: impl Into<String>) -> PyErr {
    raise(invalid_value_type, message.into())
}

/// A start-up failure or a call before start: `StartupError` (also a `RuntimeError`).
pub fn startup_error(message: impl Into<String>) -> PyErr {
    raise(startup_type, message.into())
}

/// An OS resource could not be had: `ResourceError` (also an `OSError`).
pub fn resource_error(message: impl Into<String>) -> PyErr {
    raise(resource_type, message.into())
}

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
    m.add("InvalidValueError", invalid_value_type(py)?)?;
    m.add("StartupError", startup_type(py)?)?;
    m.add("ResourceError", resource_type(py)?)?;
    Ok(())
}
