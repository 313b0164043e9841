"""Work queue: selectors."""
