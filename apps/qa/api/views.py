"""Bank clearing-code question answering: views."""
