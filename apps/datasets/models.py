"""Datasets: models."""
