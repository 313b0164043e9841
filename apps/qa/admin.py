"""Bank clearing-code question answering: admin."""
