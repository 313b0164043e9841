"""Cross-cutting platform pieces: dashboard, system config, audit log, health."""
