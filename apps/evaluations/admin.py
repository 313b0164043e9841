"""Evaluations: admin."""
