"""Work queue: admin."""
