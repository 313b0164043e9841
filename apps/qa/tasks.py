"""Bank clearing-code question answering: tasks."""
