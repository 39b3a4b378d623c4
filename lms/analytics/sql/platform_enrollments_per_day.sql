-- Enrollments per UTC day over the last 366 days, every course.
SELECT
    date(from_iso8601_timestamp(occurred_at)) AS day,
    count(*) AS enrollments
FROM deduplicated
WHERE event_name = 'EnrollmentCreated'
  AND dt >= CAST(current_date - INTERVAL '366' DAY AS VARCHAR)
GROUP BY 1
ORDER BY 1
