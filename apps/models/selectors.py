"""Model registry: selectors."""
