//! Python exception classes, mapped from `arb_core::ErrorClass` in one place, and the
//! three errors of the bindings themselves (bad input, a start-up failure, an OS
//! resource): every exception the module raises derives from `ArbError`.

use arb_core::ErrorClass;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::type_object::PyTypeInfo;
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
// `create_exception!` cannot make: each is built once with `type(name, bases, dict)`.
struct TwoBased {
    cell: PyOnceLock<Py<PyType>>,
    name: &'static str,
    /// The builtin second base, by its name in `builtins`.
    builtin: &'static str,
    doc: &'static str,
}

impl TwoBased {
    const fn new(name: &'static str, builtin: &'static str, doc: &'static str) -> Self {
        Self {
            cell: PyOnceLock::new(),
            name,
            builtin,
            doc,
        }
    }

    fn get<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyType>> {
        let t = self.cell.get_or_try_init(py, || {
            let builtins = py.import("builtins")?;
            let bases = PyTuple::new(
                py,
                [
                    py.get_type::<ArbError>().into_any(),
                    builtins.getattr(self.builtin)?,
                ],
            )?;
            let ns = PyDict::new(py);
            ns.set_item("__module__", "arbhybrid._native")?;
            ns.set_item("__doc__", self.doc)?;
            let t = builtins.getattr("type")?.call1((self.name, bases, ns))?;
            Ok::<_, PyErr>(t.cast_into::<PyType>()?.unbind())
        })?;
        Ok(t.bind(py))
    }
}

/// A marker per two-based type for `PyErr::new`, which is lazy: the type object is
/// looked up when the error reaches Python, under the interpreter lock. So raising one
/// never takes the lock itself, which a runtime thread must not do while the interpreter
/// may be finalizing (an engine's start-up failure is raised on a runtime thread).
macro_rules! lazy_type {
    ($marker:ident, $two_based:ident, $fallback:ty) => {
        struct $marker;

        // SAFETY: the pointer is a type object kept alive by `$two_based` (a static), or
        // the builtin fallback's, which lives as long as the interpreter.
        unsafe impl PyTypeInfo for $marker {
            fn type_object_raw(py: Python<'_>) -> *mut pyo3::ffi::PyTypeObject {
                match $two_based.get(py) {
                    Ok(t) => t.as_type_ptr(),
                    Err(_) => py.get_type::<$fallback>().as_type_ptr(),
                }
            }
        }
    };
}

static INVALID_VALUE: TwoBased = TwoBased::new(
    "InvalidValueError",
    "ValueError",
    "Bad input: a configuration or argument the module cannot use.",
);
static STARTUP: TwoBased = TwoBased::new(
    "StartupError",
    "RuntimeError",
    "The engine, simulator, feed or stream could not start, or is not running.",
);
static RESOURCE: TwoBased = TwoBased::new(
    "ResourceError",
    "OSError",
    "A file, port or thread the module needs could not be had.",
);

lazy_type!(InvalidValueType, INVALID_VALUE, PyValueError);
lazy_type!(StartupType, STARTUP, PyRuntimeError);
lazy_type!(ResourceType, RESOURCE, PyOSError);

/// Bad input: raised as `InvalidValueError` (an `ArbError` and a `ValueError`).
pub fn value_error(message: impl Into<String>) -> PyErr {
    PyErr::new::<InvalidValueType, _>(message.into())
}

/// A start-up failure or a call before start: `StartupError` (also a `RuntimeError`).
pub fn startup_error(message: impl Into<String>) -> PyErr {
    PyErr::new::<StartupType, _>(message.into())
}

/// An OS resource could not be had: `ResourceError` (also an `OSError`).
pub fn resource_error(message: impl Into<String>) -> PyErr {
    PyErr::new::<ResourceType, _>(message.into())
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
    for t in [&INVALID_VALUE, &STARTUP, &RESOURCE] {
        m.add(t.name, t.get(py)?)?;
    }
    Ok(())
}
