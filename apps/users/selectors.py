"""People, roles and access: selectors."""
