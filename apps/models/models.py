"""Model registry: models."""
