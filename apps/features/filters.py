"""Feature center: filters."""
