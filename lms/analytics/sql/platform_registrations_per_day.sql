-- Accounts created per UTC day over the last 366 days.
SELECT
    date(from_iso8601_timestamp(occurred_at)) AS day,
    count(*) AS registrations
FROM deduplicated
WHERE event_name = 'UserRegistered'
  AND dt >= CAST(current_date - INTERVAL '366' DAY AS VARCHAR)
GROUP BY 1
ORDER BY 1
