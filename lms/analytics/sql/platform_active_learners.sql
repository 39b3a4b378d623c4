-- Learners active on each UTC day (daily) and in the 7 days ending on it (weekly), over the last
-- 366 days. Active: the learner did something in a course (progress, a quiz attempt, a post).
, learning AS (
    SELECT DISTINCT
        user_id,
        date(from_iso8601_timestamp(occurred_at)) AS day
    FROM deduplicated
    WHERE event_name IN ('LessonProgressRecorded', 'AttemptGraded', 'PostCreated')
      AND user_id IS NOT NULL
      AND dt >= CAST(current_date - INTERVAL '373' DAY AS VARCHAR)
),
days AS (
    SELECT DISTINCT day FROM learning
)
SELECT
    days.day,
    count(DISTINCT CASE WHEN learning.day = days.day THEN learning.user_id END) AS daily,
    count(DISTINCT learning.user_id) AS weekly
FROM days
JOIN learning
  ON learning.day BETWEEN days.day - INTERVAL '6' DAY AND days.day
WHERE days.day >= current_date - INTERVAL '366' DAY
GROUP BY 1
ORDER BY 1
