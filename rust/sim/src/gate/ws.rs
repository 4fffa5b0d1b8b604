//! Gate WebSocket `/ws/v4/`.

use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::response::Response;

use crate::state::Shared;

pub async fn upgrade(State(_shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|_socket| async {})
}
