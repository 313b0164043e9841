"""Datasets: upload, validation, profiling and versions."""
