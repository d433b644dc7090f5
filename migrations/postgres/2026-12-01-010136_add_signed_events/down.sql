DROP TABLE event_chain;
ALTER TABLE sessions
    DROP COLUMN chain_tip_sig,
    DROP COLUMN chained_event_count,
    DROP COLUMN verified_event_count,
    DROP COLUMN signed_event_count,
    DROP COLUMN signing_pubkey;
