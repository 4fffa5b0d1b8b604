//! MEXC spot v3: REST under `/api/v3` and the protobuf WebSocket at `/ws`.

use std::sync::Arc;

use axum::Router;

use crate::state::Shared;

/// The MEXC server's routes.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().with_state(shared)
}
