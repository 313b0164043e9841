"""Model registry: services."""
