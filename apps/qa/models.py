"""Bank clearing-code question answering: models."""
