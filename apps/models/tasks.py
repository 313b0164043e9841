"""Model registry: tasks."""
