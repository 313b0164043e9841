"""Datasets: admin."""
