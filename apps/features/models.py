"""Feature center: models."""
