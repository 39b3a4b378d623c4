"""One router per API.md table."""
