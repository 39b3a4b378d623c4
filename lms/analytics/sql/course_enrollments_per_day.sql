-- Enrollments per course per UTC day, over the last 366 days (partitions older are not read).
SELECT
    course_id,
    date(from_iso8601_timestamp(occurred_at)) AS day,
    count(*) AS enrollments
FROM deduplicated
WHERE event_name = 'EnrollmentCreated'
  AND dt >= CAST(current_date - INTERVAL '366' DAY AS VARCHAR)
GROUP BY 1, 2
ORDER BY 1, 2
