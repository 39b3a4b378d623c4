"""The thin HTTP API: validates, authorises, reads and starts executions."""
