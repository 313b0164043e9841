"""Bank clearing-code question answering: filters."""
