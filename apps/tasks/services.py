"""Work queue: services."""
