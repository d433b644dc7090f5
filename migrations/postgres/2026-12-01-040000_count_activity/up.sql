-- Events counted by kind and by the tool they name (traceline_domain::artifact::ActivityCounts), kept by ingest
-- with the other aggregates so that ending a session derives its artifacts without reading its timeline.
-- Sessions stored before are counted here, from their timelines, once.
ALTER TABLE sessions ADD COLUMN activity_counts TEXT NOT NULL DEFAULT '{"byKind":{},"byTool":{}}';
UPDATE sessions SET activity_counts = json_build_object(
    'byKind', (
        SELECT coalesce(json_object_agg(kind, n), '{}'::json) FROM (
            SELECT kind, count(*) AS n FROM timeline_events WHERE session_id = sessions.id GROUP BY kind
        ) AS kinds
    ),
    'byTool', (
        SELECT coalesce(json_object_agg(tool, n), '{}'::json) FROM (
            SELECT tool, count(*) AS n FROM (
                SELECT coalesce(
                    CASE WHEN jsonb_typeof(data::jsonb -> 'tool') = 'string' THEN data::jsonb ->> 'tool' END,
                    CASE WHEN jsonb_typeof(data::jsonb -> 'toolName') = 'string' THEN data::jsonb ->> 'toolName' END,
                    CASE WHEN jsonb_typeof(data::jsonb -> 'tool_name') = 'string' THEN data::jsonb ->> 'tool_name' END
                ) AS tool
                FROM timeline_events WHERE session_id = sessions.id
            ) AS named WHERE tool IS NOT NULL GROUP BY tool
        ) AS tools
    )
)::text WHERE event_count > 0;
