-- Events counted by kind and by the tool they name (traceline_domain::artifact::ActivityCounts), kept by ingest
-- with the other aggregates so that ending a session derives its artifacts without reading its timeline.
-- Sessions stored before are counted here, from their timelines, once.
ALTER TABLE sessions ADD COLUMN activity_counts TEXT NOT NULL DEFAULT '{"byKind":{},"byTool":{}}';
UPDATE sessions SET activity_counts = json_object(
    'byKind', (
        SELECT json_group_object(kind, n) FROM (
            SELECT kind, count(*) AS n FROM timeline_events WHERE session_id = sessions.id GROUP BY kind
        )
    ),
    'byTool', (
        SELECT json_group_object(tool, n) FROM (
            SELECT tool, count(*) AS n FROM (
                SELECT coalesce(
                    CASE WHEN json_type(data, '$.tool') = 'text' THEN json_extract(data, '$.tool') END,
                    CASE WHEN json_type(data, '$.toolName') = 'text' THEN json_extract(data, '$.toolName') END,
                    CASE WHEN json_type(data, '$.tool_name') = 'text' THEN json_extract(data, '$.tool_name') END
                ) AS tool
                FROM timeline_events WHERE session_id = sessions.id
            ) WHERE tool IS NOT NULL GROUP BY tool
        )
    )
) WHERE event_count > 0;
