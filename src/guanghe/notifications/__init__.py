"""Notifications: the one outbox every capability writes to.

A domain function calls :func:`notify` with its session, in the transaction of the change that
causes the notice; the delivery worker (:func:`run_delivery`, ``guanghe notify run`` and inside
``guanghe serve``) sends each notice by the channels the creator chose (in-app inbox, signed
webhook, e-mail), with quiet hours, a daily digest, retries with back-off, dead letters that
operators replay, and a stable delivery id receivers de-duplicate on.
"""

from guanghe.notifications.delivery import (
    DeadLetterView,
    DeliveryPolicy,
    Lease,
    Outgoing,
    claim_due,
    complete,
    fail,
    list_dead_letters,
    load_outgoing,
    replay_dead_letter,
)
from guanghe.notifications.inbox import NoticeView, list_inbox, mark_read, unread_count
from guanghe.notifications.outbox import (
    NoticeDraft,
    after_quiet_hours,
    next_digest,
    notify,
    notify_many,
)
from guanghe.notifications.preferences import (
    CHANNELS,
    Preferences,
    PreferencesChange,
    check_manages,
    check_webhook_url,
    get_preferences,
    put_preferences,
)
from guanghe.notifications.senders import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SendFailed,
    SmtpServer,
    sign,
    verify,
)
from guanghe.notifications.worker import (
    QUEUE,
    Deliverer,
    WorkerSetup,
    deliver_due,
    run_delivery,
    worker_setup,
)

__all__ = [
    "CHANNELS",
    "DELIVERY_HEADER",
    "QUEUE",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "DeadLetterView",
    "Deliverer",
    "DeliveryPolicy",
    "Lease",
    "NoticeDraft",
    "NoticeView",
    "Outgoing",
    "Preferences",
    "PreferencesChange",
    "SendFailed",
    "SmtpServer",
    "WorkerSetup",
    "after_quiet_hours",
    "check_manages",
    "check_webhook_url",
    "claim_due",
    "complete",
    "deliver_due",
    "fail",
    "get_preferences",
    "list_dead_letters",
    "list_inbox",
    "load_outgoing",
    "mark_read",
    "next_digest",
    "notify",
    "notify_many",
    "put_preferences",
    "replay_dead_letter",
    "run_delivery",
    "sign",
    "unread_count",
    "verify",
    "worker_setup",
]
