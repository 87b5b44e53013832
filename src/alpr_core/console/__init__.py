"""The browser console, served by the query API at ``/console`` (docs/decisions.md#console)."""
