"""Datasets: selectors."""
