"""Prometheus gauges of data quality: the latest validated version of each dataset."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class DatasetQualityCollector(Collector):
    def collect(self):
        from .selectors import latest_validated_versions

        score = GaugeMetricFamily(
            "omm_dataset_quality_score",
            "Quality score (0-100) of each dataset's latest version",
            labels=["dataset", "version"],
        )
        alerts = GaugeMetricFamily(
            "omm_dataset_quality_alerts",
            "Quality alerts on each dataset's latest version",
            labels=["dataset", "level"],
        )
        for version in latest_validated_versions():
            if version.quality_score is None:
                continue
            score.add_metric([version.dataset.name, str(version.version)], version.quality_score)
            levels: dict[str, int] = {"warning": 0, "error": 0}
            for alert in (version.quality or {}).get("alerts", []):
                levels[alert.get("level", "warning")] = levels.get(alert.get("level", "warning"), 0) + 1
            for level, count in levels.items():
                alerts.add_metric([version.dataset.name, level], count)
        yield score
        yield alerts
