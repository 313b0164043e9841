"""Datasets: serializers."""
