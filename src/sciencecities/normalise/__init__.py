"""Normalise: source-shaped records in, canonical tables out (rename, cast, quarantine; no joins)."""
