"""People, roles and access."""
