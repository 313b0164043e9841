"""Datasets: services."""
