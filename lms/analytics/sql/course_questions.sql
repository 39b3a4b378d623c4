-- Item statistics per question over first attempts only (Moodle's definitions): the facility
-- index is the mean fraction of the question's marks scored; the discrimination index is the
-- correlation between the question's score and the score on the rest of the attempt (NULL when
-- either does not vary). From AttemptGraded: attemptNumber, score and questions[{questionId,
-- score, maxScore}].
, first_attempts AS (
    SELECT
        course_id,
        CAST(json_extract_scalar(detail, '$.score') AS DOUBLE) AS attempt_score,
        CAST(json_extract(detail, '$.questions') AS ARRAY(JSON)) AS questions
    FROM deduplicated
    WHERE event_name = 'AttemptGraded'
      AND CAST(json_extract_scalar(detail, '$.attemptNumber') AS INTEGER) = 1
),
answers AS (
    SELECT
        first_attempts.course_id,
        json_extract_scalar(question, '$.questionId') AS question_id,
        CAST(json_extract_scalar(question, '$.score') AS DOUBLE) AS score,
        CAST(json_extract_scalar(question, '$.maxScore') AS DOUBLE) AS max_score,
        first_attempts.attempt_score
    FROM first_attempts
    CROSS JOIN UNNEST(first_attempts.questions) AS answered(question)
)
SELECT
    course_id,
    question_id,
    count(*) AS attempts,
    avg(CASE WHEN max_score > 0 THEN score / max_score END) AS facility_index,
    corr(score, attempt_score - score) AS discrimination_index
FROM answers
GROUP BY 1, 2
ORDER BY 1, 2
