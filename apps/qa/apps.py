from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QaConfig(AppConfig):
    name = "apps.qa"
    label = "qa"
    verbose_name = _("Bank clearing-code question answering")

    def ready(self) -> None:
        from apps.core.config import declare
        from apps.core.trail import trail_track
        from apps.models import artifacts

        from . import services
        from .config import KEYS
        from .models import BankAlias
        from .retrieval import FORMAT, RetrievalIndex

        declare(*KEYS)
        trail_track(BankAlias)  # the governance trail (questions and answers are not)
        services.register()
        # The registry verifies an index's artifact like any model's, then reads it with this.
        artifacts.register_format(FORMAT, RetrievalIndex.from_bytes, name="retrieval index")
