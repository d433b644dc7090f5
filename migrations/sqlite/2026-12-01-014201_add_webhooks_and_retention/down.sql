DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
ALTER TABLE orgs DROP COLUMN retention_days;
