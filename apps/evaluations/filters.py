"""Evaluations: filters."""
