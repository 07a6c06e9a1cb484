"""Present: the CLI, exports and (later) charts, web and reports; thin layers over the Python API."""
