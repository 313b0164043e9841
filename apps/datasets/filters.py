"""Datasets: filters."""
