"""Evaluations: tasks."""
