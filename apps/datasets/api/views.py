"""Datasets: views."""
