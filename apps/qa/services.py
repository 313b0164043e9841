"""Bank clearing-code question answering: services."""
