"""The cycle's ``live_reminders`` step: remind every creator with an RSVP to a live-room
session starting within :data:`guanghe.community.REMINDER_LEAD` of the cycle's ``now``. Each
reminder is written once (its dedupe key), so re-running a date adds nothing."""

from __future__ import annotations

from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.reports import StepReport


def run(ctx: CycleContext) -> StepReport:
    """Write the due live-room reminders as of ``ctx.now``."""
    from guanghe import community

    covered = ctx.runtime.write(lambda s: community.send_due_reminders(s, now=ctx.now))
    return StepReport("live_reminders", {"rsvps_reminded": covered})
