"""Video processing: the per-lesson record (records), the media work (media), the steps (steps)."""
