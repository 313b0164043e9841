"""Work queue: tasks, logs and schedules."""
