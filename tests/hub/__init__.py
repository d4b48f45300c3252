"""Tests of the function hub."""
