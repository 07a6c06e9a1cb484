"""Measure: Share and Count, written once as Ibis expressions (no engine code here)."""
