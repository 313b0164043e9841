"""Model registry: serializers."""
