"""Rank: order entities by the ranking rule of DESIGN §4 and compare over time."""
