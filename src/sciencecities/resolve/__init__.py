"""Resolve: decide which works count (editions, journals) and where institutions are (geography)."""
