"""Video processing's domain: media rules, the per-lesson video record, the workflow's steps, playback."""

# Media a run could not remove is tagged so; the media bucket's lifecycle rule (infra/data.py) expires it.
SPENT_TAG = {"lms-spent": "true"}
