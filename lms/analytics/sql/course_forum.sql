-- Forum participation per course: threads started, replies (posts that are not a thread's first),
-- distinct posters. From PostCreated: threadId, and the author as the actor.
SELECT
    course_id,
    count(DISTINCT json_extract_scalar(detail, '$.threadId')) AS threads,
    count(*) - count(DISTINCT json_extract_scalar(detail, '$.threadId')) AS replies,
    count(DISTINCT actor_id) AS posters
FROM deduplicated
WHERE event_name = 'PostCreated'
GROUP BY 1
ORDER BY 1
