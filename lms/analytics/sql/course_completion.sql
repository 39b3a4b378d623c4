-- Per course: active enrollments, how many reached 100 %, the rate, and the exact median of the
-- days from enrolling to completing (the middle value, or the mean of the two middle values).
, ranked AS (
    SELECT
        course_id,
        days_to_complete,
        row_number() OVER (PARTITION BY course_id ORDER BY days_to_complete) AS rank_number,
        count(*) OVER (PARTITION BY course_id) AS finishers
    FROM finished
),
medians AS (
    SELECT course_id, avg(days_to_complete) AS median_days_to_complete
    FROM ranked
    WHERE rank_number * 2 BETWEEN finishers AND finishers + 2
    GROUP BY course_id
)
SELECT
    enrolled.course_id,
    count(*) AS enrolled,
    count(finished.user_id) AS completed,
    CAST(count(finished.user_id) AS DOUBLE) / count(*) AS completion_rate,
    max(medians.median_days_to_complete) AS median_days_to_complete
FROM enrolled
LEFT JOIN finished
  ON finished.course_id = enrolled.course_id AND finished.user_id = enrolled.user_id
LEFT JOIN medians
  ON medians.course_id = enrolled.course_id
GROUP BY 1
ORDER BY 1
