"""Assessments (docs/api.md, "Assessments"): question banks, quizzes and attempts, assignments, grading."""
