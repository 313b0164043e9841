"""API routes of this domain (none yet)."""

urlpatterns: list = []
