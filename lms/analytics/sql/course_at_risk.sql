-- Students with an active enrollment, no activity in the course for 14 days and progress under
-- 50 %. Activity: any event of theirs in the course (the enrollment itself counts). User ids only:
-- names are resolved at read time, for the course's owner.
, activity AS (
    SELECT course_id, user_id, max(from_iso8601_timestamp(occurred_at)) AS last_activity_at
    FROM deduplicated
    WHERE course_id IS NOT NULL AND user_id IS NOT NULL
    GROUP BY 1, 2
),
latest_progress AS (
    SELECT course_id, user_id, max_by(progress_percentage, recorded_at) AS progress_percentage
    FROM progress
    GROUP BY 1, 2
)
SELECT
    enrolled.course_id,
    enrolled.user_id,
    activity.last_activity_at,
    coalesce(latest_progress.progress_percentage, 0) AS progress_percentage
FROM enrolled
JOIN activity
  ON activity.course_id = enrolled.course_id AND activity.user_id = enrolled.user_id
LEFT JOIN latest_progress
  ON latest_progress.course_id = enrolled.course_id AND latest_progress.user_id = enrolled.user_id
WHERE activity.last_activity_at < current_timestamp - INTERVAL '14' DAY
  AND coalesce(latest_progress.progress_percentage, 0) < 50
ORDER BY 1, 3, 2
