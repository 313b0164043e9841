"""Model registry: views."""
