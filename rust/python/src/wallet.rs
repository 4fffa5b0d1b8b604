//! Python bindings for arb-exec's wallet: `WalletClient(config_json)` (the same JSON as
//! `VenueClient`): networks, deposit addresses, withdrawals sent once with a client
//! withdrawal id, and the withdrawal and deposit histories. Amounts are exact decimal
//! strings both ways.

use arb_exec::{Wallet, WithdrawRequest};
use pyo3::prelude::*;

use crate::exec::{amount, client_from_json, ser, to_py_err};
use crate::runtime;

/// One venue's wallet client.
#[pyclass(name = "WalletClient", module = "arbhybrid._native", frozen)]
pub struct PyWalletClient {
    wallet: Wallet,
}

#[pymethods]
impl PyWalletClient {
    #[new]
    fn new(config_json: &str) -> PyResult<Self> {
        Ok(PyWalletClient {
            wallet: Wallet::new(client_from_json(config_json)?),
        })
    }

    #[getter]
    fn venue(&self) -> &'static str {
        self.wallet.client().venue().as_str()
    }

    /// `[{"asset", "chain", "deposit_open", "withdraw_open", "withdraw_fee",
    /// "withdraw_min", "withdraw_max"}]`.
    fn networks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let w = self.wallet.clone();
        runtime::future_into_py(
            py,
            async move { ser(&w.networks().await.map_err(to_py_err)?) },
        )
    }

    /// `{"asset", "chain", "address", "memo"}`.
    fn deposit_address<'py>(
        &self,
        py: Python<'py>,
        asset: String,
        chain: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let w = self.wallet.clone();
        runtime::future_into_py(py, async move {
            ser(&w.deposit_address(&asset, &chain).await.map_err(to_py_err)?)
        })
    }

    /// Sends one withdrawal, once; the venue's id. A timeout raises `RequestTimeout` /
    /// `UnknownOutcomeError`: resolve it with `find_withdrawal`, never by sending again.
    #[pyo3(signature = (asset, chain, address, amount_str, client_id, memo = None))]
    #[allow(clippy::too_many_arguments)]
    fn withdraw<'py>(
        &self,
        py: Python<'py>,
        asset: String,
        chain: String,
        address: String,
        amount_str: &str,
        client_id: String,
        memo: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = WithdrawRequest {
            asset,
            chain,
            address,
            memo,
            amount: amount("amount", amount_str)?,
            client_id,
        };
        let w = self.wallet.clone();
        runtime::future_into_py(py, async move { w.withdraw(&req).await.map_err(to_py_err) })
    }

    /// `[{"id", "client_id", "asset", "chain", "address", "amount", "fee", "status",
    /// "txid", "time_ms"}]` (`status`: pending / on_chain / done / failed).
    #[pyo3(signature = (asset, since_ms = 0))]
    fn withdrawals<'py>(
        &self,
        py: Python<'py>,
        asset: String,
        since_ms: i64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let w = self.wallet.clone();
        runtime::future_into_py(py, async move {
            ser(&w.withdrawals(&asset, since_ms).await.map_err(to_py_err)?)
        })
    }

    /// The withdrawal with this client id, or `None`.
    #[pyo3(signature = (asset, client_id, since_ms = 0))]
    fn find_withdrawal<'py>(
        &self,
        py: Python<'py>,
        asset: String,
        client_id: String,
        since_ms: i64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let w = self.wallet.clone();
        runtime::future_into_py(py, async move {
            let found = w
                .find_withdrawal(&asset, &client_id, None, since_ms)
                .await
                .map_err(to_py_err)?;
            ser(&found)
        })
    }

    /// `[{"id", "asset", "chain", "address", "amount", "status", "txid", "time_ms"}]`.
    #[pyo3(signature = (asset, since_ms = 0))]
    fn deposits<'py>(
        &self,
        py: Python<'py>,
        asset: String,
        since_ms: i64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let w = self.wallet.clone();
        runtime::future_into_py(py, async move {
            ser(&w.deposits(&asset, since_ms).await.map_err(to_py_err)?)
        })
    }

    fn __repr__(&self) -> String {
        let c = self.wallet.client();
        format!(
            "WalletClient(venue={:?}, rest_url={:?})",
            c.venue().as_str(),
            c.config().rest_url
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWalletClient>()?;
    Ok(())
}
