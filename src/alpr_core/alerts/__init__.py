"""Watchlist alerts: matching stored reads against the lists, the alerts they raise, and their
delivery (docs/decisions.md#watchlist-matching)."""
