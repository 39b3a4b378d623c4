-- Every course together: active enrollments, how many reached 100 %, the rate, and the exact
-- median of the days from enrolling to completing.
, ranked AS (
    SELECT
        days_to_complete,
        row_number() OVER (ORDER BY days_to_complete) AS rank_number,
        count(*) OVER () AS finishers
    FROM finished
),
medians AS (
    SELECT avg(days_to_complete) AS median_days_to_complete
    FROM ranked
    WHERE rank_number * 2 BETWEEN finishers AND finishers + 2
)
SELECT
    count(*) AS enrolled,
    count(finished.user_id) AS completed,
    coalesce(CAST(count(finished.user_id) AS DOUBLE) / nullif(count(*), 0), 0) AS completion_rate,
    max(medians.median_days_to_complete) AS median_days_to_complete
FROM enrolled
LEFT JOIN finished
  ON finished.course_id = enrolled.course_id AND finished.user_id = enrolled.user_id
CROSS JOIN medians
