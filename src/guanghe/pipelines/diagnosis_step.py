"""The cycle's ``diagnosis`` step: retrain the predicted-performance model on the works whose
outcome window has ended by the date, and persist the originality index."""

from __future__ import annotations

import datetime as dt
import logging

from guanghe.runtime import Runtime

_log = logging.getLogger(__name__)


def run(runtime: Runtime, date: dt.date) -> None:
    """Train and save the model as of ``date`` (skipped, with a log line, on thin history)."""
    # Imported here: scikit-learn and OpenCV take seconds to import, and every user of the
    # cycle (the crash test's child processes, the CLI) would pay for it otherwise.
    from guanghe.diagnosis import fit_model, save_model, training_set
    from guanghe.originality import save_index

    data_dir = runtime.settings.data_dir
    with runtime.sessions() as session:
        data = training_set(session, runtime.event_log, date)
    model = fit_model(data, date)
    if model is None:
        _log.warning("diagnosis: %d complete works by %s; model not retrained", data.y.size, date)
    else:
        save_model(model, data_dir)
    save_index(data_dir)
