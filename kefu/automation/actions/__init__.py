"""Every write of the automation app. Views, the API, the tick and jobs call these."""

from kefu.automation.actions.config import (
    save_canned_response,
    save_macro,
    save_time_rule,
    save_trigger,
    save_webhook,
)
from kefu.automation.actions.engine import perform, run_triggers
from kefu.automation.actions.macros import (
    apply_macro,
    search_canned_responses,
    use_canned_response,
)
from kefu.automation.actions.schedule import (
    process_due_time_rules,
    reschedule_rule,
    schedule_ticket,
)
from kefu.automation.actions.webhooks import (
    attempt_delivery,
    deliver_to_subscribers,
    enqueue_delivery,
    send_test_delivery,
)

__all__ = [
    "apply_macro",
    "attempt_delivery",
    "deliver_to_subscribers",
    "enqueue_delivery",
    "perform",
    "process_due_time_rules",
    "reschedule_rule",
    "run_triggers",
    "save_canned_response",
    "save_macro",
    "save_time_rule",
    "save_trigger",
    "save_webhook",
    "schedule_ticket",
    "search_canned_responses",
    "send_test_delivery",
    "use_canned_response",
]
