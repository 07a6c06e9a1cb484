"""Acquire: find raw records (files, snapshot folders; later the OpenAlex API) and say what each one holds."""
