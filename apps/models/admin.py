"""Model registry: admin."""
