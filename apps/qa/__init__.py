"""Bank clearing-code question answering."""
