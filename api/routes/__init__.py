"""One router per table of docs/api.md."""
