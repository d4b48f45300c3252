"""Tests of the functions CLI sub-commands."""
