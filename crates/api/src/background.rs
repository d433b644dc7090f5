//! The server's background work, next to the HTTP server and never inside a request: the webhook sender and the
//! retention sweep. `traceline serve` starts it before serving and stops it after.

use crate::retention::{self, SweeperHandle};
use crate::state::AppState;
use crate::webhooks::sender::{self, SenderHandle};

/// The running background work.
pub struct Background {
    sender: SenderHandle,
    sweeper: SweeperHandle,
}

impl Background {
    /// Starts the webhook sender and the retention sweep for `state`.
    pub fn start(state: &AppState) -> Self {
        Background {
            sender: sender::start(state.database.clone(), state.webhooks.clone()),
            sweeper: retention::start(
                state.database.clone(),
                state.settings.retention_sweep_interval,
            ),
        }
    }

    /// Stops both; deliveries this process had claimed are freed for the next one to send.
    pub fn stop(&self) {
        self.sweeper.stop();
        self.sender.stop();
    }
}
