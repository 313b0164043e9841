"""Bank clearing-code question answering: serializers."""
