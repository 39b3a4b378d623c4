-- Revenue (integer cents, per currency) per UTC day over the last 366 days: captured payments.
SELECT
    date(from_iso8601_timestamp(occurred_at)) AS day,
    json_extract_scalar(detail, '$.currency') AS currency,
    sum(CAST(json_extract_scalar(detail, '$.amount') AS BIGINT)) AS amount_cents
FROM deduplicated
WHERE event_name = 'PurchaseCompleted'
  AND CAST(json_extract_scalar(detail, '$.amount') AS BIGINT) > 0
  AND dt >= CAST(current_date - INTERVAL '366' DAY AS VARCHAR)
GROUP BY 1, 2
ORDER BY 1, 2
