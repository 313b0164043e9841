"""Feature center: views."""
