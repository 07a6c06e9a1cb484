"""Tests of acquire: the OpenAlex API client against a loopback replay of recorded responses."""
