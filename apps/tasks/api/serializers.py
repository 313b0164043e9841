"""Work queue: serializers."""
