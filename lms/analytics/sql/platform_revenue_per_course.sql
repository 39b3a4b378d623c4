-- Revenue (integer cents, per currency) per course, all time: captured payments.
SELECT
    course_id,
    json_extract_scalar(detail, '$.currency') AS currency,
    sum(CAST(json_extract_scalar(detail, '$.amount') AS BIGINT)) AS amount_cents
FROM deduplicated
WHERE event_name = 'PurchaseCompleted'
  AND CAST(json_extract_scalar(detail, '$.amount') AS BIGINT) > 0
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2
