"""Evaluations: services."""
