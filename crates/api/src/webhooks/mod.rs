//! Webhook delivery (spec §12): where a webhook may post (`destination`), one signed attempt (`post`), and the
//! background sender that drains the outbox (`sender`). The outbox itself is written by storage, in the
//! transaction of each change (`traceline_storage::outbox`).

pub(crate) mod destination;
pub(crate) mod post;
pub mod sender;

use uuid::Uuid;

use crate::config::WebhookSettings;
use crate::webhooks::post::Poster;

/// What sending webhooks takes, shared by the background sender and the test route.
#[derive(Debug)]
pub struct Webhooks {
    /// The settings.
    pub settings: WebhookSettings,
    /// This process's name on the leases it takes (random per start).
    pub owner: String,
    poster: Poster,
}

impl Webhooks {
    /// The delivery machinery for `settings`.
    pub fn new(settings: WebhookSettings) -> Self {
        let poster = Poster::new(settings.allow_private);
        Webhooks { settings, owner: Uuid::new_v4().to_string(), poster }
    }

    pub(crate) fn poster(&self) -> &Poster {
        &self.poster
    }
}
