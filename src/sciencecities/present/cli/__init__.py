"""The `sciencecities` command line (Typer + Rich): one module per verb group, all thin over the API."""
