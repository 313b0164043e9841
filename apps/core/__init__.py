"""Cross-cutting platform pieces: system config, audit log, health, errors, API conventions."""
