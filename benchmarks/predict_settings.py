"""OMM's settings with the bare peer view mounted (prediction benchmark only)."""

from omm.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.predict_bare"
