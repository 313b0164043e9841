"""Work queue: filters."""
