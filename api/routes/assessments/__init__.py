"""Assessments routes (docs/api.md, "Assessments")."""
