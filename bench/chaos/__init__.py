"""Chaos at scale with exact accounting: private servers, three consumers, HTTP ingest, poison,
replays and faults, then a ledger of everything sent checked against what was stored."""
