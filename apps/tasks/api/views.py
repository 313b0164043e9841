"""Work queue: views."""
