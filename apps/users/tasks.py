"""People, roles and access: tasks."""
