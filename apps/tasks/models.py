"""Work queue: models."""
