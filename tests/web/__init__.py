"""Tests of the web API and the dashboard (`sciencecities serve`)."""
