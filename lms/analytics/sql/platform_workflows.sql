-- Executions per workflow per UTC day over the last 366 days, by how they ended: succeeded (and
-- the business outcome named in the output, if any) or failed (failed, timed out, aborted).
-- From Step Functions' "Execution Status Change" events (source aws.states) in the lake.
SELECT
    date(from_iso8601_timestamp(occurred_at)) AS day,
    regexp_extract(json_extract_scalar(detail, '$.stateMachineArn'), ':stateMachine:lms-(.+)$', 1) AS workflow,
    result AS status,
    json_extract_scalar(json_extract_scalar(detail, '$.output'), '$.outcome') AS outcome,
    count(*) AS executions
FROM deduplicated
WHERE source = 'aws.states'
  AND result IN ('SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED')
  AND dt >= CAST(current_date - INTERVAL '366' DAY AS VARCHAR)
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
