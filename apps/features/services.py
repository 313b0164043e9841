"""Feature center: services."""
