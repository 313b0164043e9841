"""Evaluations: metrics, reports and drift monitoring."""
