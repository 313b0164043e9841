"""Datasets: tasks."""
