"""Task Lambda handlers, one module per workflow: thin handlers over :mod:`lms` domain logic."""
