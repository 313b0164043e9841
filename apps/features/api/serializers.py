"""Feature center: serializers."""
