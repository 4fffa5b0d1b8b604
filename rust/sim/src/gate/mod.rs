//! Gate.io API v4: REST under `/api/v4` and the WebSocket at `/ws/v4/`.

use std::sync::Arc;

use axum::Router;

use crate::state::Shared;

/// The Gate server's routes.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().with_state(shared)
}
