"""Feature center: tasks."""
