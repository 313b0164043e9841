"""Evaluations: models."""
