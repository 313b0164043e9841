"""Evaluations: serializers."""
