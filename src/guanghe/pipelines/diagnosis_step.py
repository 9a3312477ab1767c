"""The cycle's ``diagnosis`` step: retrain the predicted-performance model on the works whose
outcome window has ended by the date, and persist the originality index."""

from __future__ import annotations

from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.reports import Problem, StepReport


def run(ctx: CycleContext) -> StepReport:
    """Train and save the model as of the cycle's date (on thin history the old model stays,
    reported as a problem), and save the originality index."""
    # Imported here: scikit-learn and OpenCV take seconds to import, and every user of the
    # cycle (the crash test's child processes, the CLI) would pay for it otherwise.
    from guanghe.diagnosis import fit_model, save_model, training_set

    data_dir = ctx.runtime.settings.data_dir
    with ctx.runtime.sessions() as session:
        data = training_set(session, ctx.runtime.event_log, ctx.date)
    model = fit_model(data, ctx.date)
    problems: tuple[Problem, ...] = ()
    if model is None:
        problems = (
            Problem(
                "model",
                "performance",
                f"{data.y.size} complete works by {ctx.date}: too few to retrain",
            ),
        )
    else:
        save_model(model, data_dir)
    ctx.runtime.fingerprint_index.save()
    return StepReport(
        "diagnosis",
        {"training_works": int(data.y.size), "model_retrained": int(model is not None)},
        problems,
    )
