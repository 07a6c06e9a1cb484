"""`python -m sciencecities` runs the CLI."""

from sciencecities.present.cli.main import run

run()
