-- Per lesson: how many students with an active enrollment reached it (any progress posted) and
-- completed it. The lessons' order (and those nobody reached) come from the course when stored.
SELECT
    progress.course_id,
    progress.lesson_id,
    count(DISTINCT progress.user_id) AS reached,
    count(DISTINCT CASE WHEN progress.lesson_completed THEN progress.user_id END) AS completed
FROM progress
JOIN enrolled
  ON enrolled.course_id = progress.course_id AND enrolled.user_id = progress.user_id
GROUP BY 1, 2
ORDER BY 1, 2
