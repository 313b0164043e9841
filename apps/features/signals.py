"""Keep Feature.tag_text equal to the feature's tags, however they change."""

from __future__ import annotations

from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from .models import Feature, Tag


def tag_text_for(names) -> str:
    return " " + " ".join(sorted(names)) + " " if names else " "


def refresh_tag_text(feature_ids) -> None:
    through = Feature.tags.through
    names: dict[int, list[str]] = {pk: [] for pk in feature_ids}
    for feature_id, name in through.objects.filter(feature_id__in=names).values_list(
        "feature_id", "tag__name"
    ):
        names[feature_id].append(name)
    for feature_id, tags in names.items():
        Feature.objects.filter(pk=feature_id).update(tag_text=tag_text_for(tags))


@receiver(m2m_changed, sender=Feature.tags.through)
def _tags_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        refresh_tag_text([instance.pk])
    elif isinstance(instance, Tag):
        # tag.features.add(...) / remove(...): the features named in pk_set changed.
        refresh_tag_text(pk_set or [])
