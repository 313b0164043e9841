"""Model registry: models, versions, lineage and serving."""
