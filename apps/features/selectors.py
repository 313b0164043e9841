"""Feature center: selectors."""
