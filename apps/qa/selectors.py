"""Bank clearing-code question answering: selectors."""
