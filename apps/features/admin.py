"""Feature center: admin."""
