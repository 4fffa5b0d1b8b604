//! A private stream whose task panics (forced through a test hook) is reported
//! disconnected and started again. Before, the task was spawned and never awaited: the
//! stream stayed down for good, silently, and fills stopped arriving. In a file of its
//! own: the hook is process-wide and tests of one file run in parallel.

mod common;

use std::time::Duration;

use arb_core::Venue;
use arb_exec::{ExecEvent, UserStream};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicked_private_stream_is_restarted() {
    let sim = quiet_sim().await;
    let venue = Venue::GATE;
    let c = client(&sim, venue);
    let mut events = c.tracker().subscribe_events();
    UserStream::panic_next_start();
    let stream = UserStream::start(c.clone(), vec![symbol(venue).to_string()]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !stream.is_connected() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stream never came back after its task panicked"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut told = false;
    while let Ok(ev) = events.try_recv() {
        if let ExecEvent::Stream {
            connected: false,
            detail,
            ..
        } = ev
        {
            told |= detail.contains("panicked");
        }
    }
    assert!(told, "the panic was not reported as a disconnection");
    stream.stop();
}
