"""Stand-ins for the servers a small site does not run: an embedded PostgreSQL, a directory."""
