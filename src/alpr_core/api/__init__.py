"""The query API: FastAPI over the stored detections, with API keys and an audit log."""
