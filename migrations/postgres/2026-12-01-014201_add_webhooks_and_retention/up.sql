-- Webhooks and retention (spec §12).
-- An org's retention in days; NULL keeps sessions for ever.
ALTER TABLE orgs ADD COLUMN retention_days BIGINT;

-- A subscription. The secret is kept as given out: the server must sign every delivery with it, so a hash would
-- not do (as with Stripe's endpoint secrets).
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_org ON webhooks (org_id, created_at, id);

-- The outbox and the delivery log in one: a row per event and subscribed webhook, written in the transaction of
-- the change, claimed by a sender with a lease (lease_owner, lease_until) so that several instances never send
-- one row at the same time, and kept afterwards as the log. The body is rendered once, so every retry sends the
-- same bytes. subject_key_id names the candidate key the event is about, so erasing a candidate finds it.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id),
    org_id TEXT NOT NULL REFERENCES orgs (id),
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    subject_key_id TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP,
    lease_owner TEXT,
    lease_until TIMESTAMP,
    last_attempt_at TIMESTAMP,
    last_status_code BIGINT,
    last_latency_ms BIGINT,
    last_error TEXT,
    delivered_at TIMESTAMP
);
-- The sender's question, "what is due?", reads only pending rows.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, created_at, id);
CREATE INDEX webhook_deliveries_subject ON webhook_deliveries (subject_key_id);
CREATE INDEX webhook_deliveries_age ON webhook_deliveries (created_at);
