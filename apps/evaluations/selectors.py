"""Evaluations: selectors."""
