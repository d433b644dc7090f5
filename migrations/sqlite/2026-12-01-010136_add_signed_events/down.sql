DROP TABLE event_chain;
ALTER TABLE sessions DROP COLUMN chain_tip_sig;
ALTER TABLE sessions DROP COLUMN chained_event_count;
ALTER TABLE sessions DROP COLUMN verified_event_count;
ALTER TABLE sessions DROP COLUMN signed_event_count;
ALTER TABLE sessions DROP COLUMN signing_pubkey;
