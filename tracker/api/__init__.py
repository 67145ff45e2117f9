"""Read-only JSON API under /api/v1/, authenticated by personal access tokens (see tokens.py, v1.py)."""
