"""Feature center: features, versions and feature sets."""
