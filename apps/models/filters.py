"""Model registry: filters."""
