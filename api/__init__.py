"""The staff-facing HTTP API (FastAPI)."""
