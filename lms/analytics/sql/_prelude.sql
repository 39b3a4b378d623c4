-- Shared by every report (prepended to each file): the lake's events, each once, and the facts
-- most reports start from. Athena (Trino) dialect; locally transpiled to DuckDB by sqlglot.
-- Delivery is at least once (EventBridge, Firehose, retried tasks), so events are deduplicated on
-- their id before anything is counted.
WITH deduplicated AS (
    SELECT *
    FROM (
        SELECT
            events.*,
            row_number() OVER (PARTITION BY event_id ORDER BY occurred_at) AS copy_number
        FROM events
    )
    WHERE copy_number = 1
),
-- Enrollments still active: created and not revoked by a refund of the same transaction.
enrolled AS (
    SELECT
        created.course_id,
        created.user_id,
        min(from_iso8601_timestamp(json_extract_scalar(created.detail, '$.enrolledAt'))) AS enrolled_at
    FROM deduplicated AS created
    WHERE created.event_name = 'EnrollmentCreated'
      AND NOT EXISTS (
          SELECT 1
          FROM deduplicated AS revoked
          WHERE revoked.event_name = 'EnrollmentRevoked'
            AND json_extract_scalar(revoked.detail, '$.transactionId')
                = json_extract_scalar(created.detail, '$.transactionId')
      )
    GROUP BY created.course_id, created.user_id
),
-- Every progress post: the lesson (the event's object), whether it completed it, and the
-- enrollment's progress after it.
progress AS (
    SELECT
        course_id,
        user_id,
        object_id AS lesson_id,
        result = 'completed' AS lesson_completed,
        CAST(json_extract_scalar(detail, '$.progressPercentage') AS INTEGER) AS progress_percentage,
        from_iso8601_timestamp(occurred_at) AS recorded_at
    FROM deduplicated
    WHERE event_name = 'LessonProgressRecorded'
),
-- Enrolled students who reached 100 %, and how many days after enrolling they first did.
finished AS (
    SELECT
        enrolled.course_id,
        enrolled.user_id,
        CAST(date_diff('second', enrolled.enrolled_at, min(progress.recorded_at)) AS DOUBLE) / 86400
            AS days_to_complete
    FROM enrolled
    JOIN progress
      ON progress.course_id = enrolled.course_id AND progress.user_id = enrolled.user_id
    WHERE progress.progress_percentage = 100
    GROUP BY enrolled.course_id, enrolled.user_id, enrolled.enrolled_at
)
