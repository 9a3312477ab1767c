"""Pre-publication diagnosis: duplicate risk, cover and metadata checks, predicted
performance among similar works and suggestions — for creators holding the ``pre_diagnosis``
growth right."""

from guanghe.diagnosis.checks import CoverReport, Finding, check_cover, check_title_and_hashtags
from guanghe.diagnosis.model import (
    PerformanceModel,
    fit_model,
    load_model,
    save_model,
    training_set,
)
from guanghe.diagnosis.service import (
    Diagnosis,
    Prediction,
    check_entitled,
    diagnose,
)

__all__ = [
    "CoverReport",
    "Diagnosis",
    "Finding",
    "PerformanceModel",
    "Prediction",
    "check_cover",
    "check_entitled",
    "check_title_and_hashtags",
    "diagnose",
    "fit_model",
    "load_model",
    "save_model",
    "training_set",
]
