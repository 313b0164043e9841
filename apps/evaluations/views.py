"""Evaluations: views."""
