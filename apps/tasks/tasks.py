"""Work queue: tasks."""
