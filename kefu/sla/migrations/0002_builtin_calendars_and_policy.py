"""The built-in calendars (China working hours, 24×7) and the default SLA policy.

Targets in business minutes of the target's calendar (see docs/sla.md):
urgent 2 h first/next response, 8 h resolution, on the 24×7 calendar; high 4 h / 24 h,
medium 6 h / 72 h, low 24 h / 120 h on China working hours; acknowledgement 15 min for all.
Escalation: level 1 at the breach moves the ticket to its group's escalation group with an
internal note; level 2 two hours later raises the priority.
"""

from django.db import migrations

WORKING_HOURS = {
    day: [["09:00", "12:00"], ["13:30", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")
} | {"sat": [], "sun": []}
ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

TARGETS = {
    # priority: (first response, next response, resolution, acknowledgement) in minutes
    "urgent": (120, 120, 8 * 60, 15),
    "high": (240, 240, 24 * 60, 15),
    "medium": (360, 360, 72 * 60, 15),
    "low": (24 * 60, 24 * 60, 120 * 60, 15),
}


def create(apps, schema_editor):
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    SLAPolicy = apps.get_model("sla", "SLAPolicy")
    SLATarget = apps.get_model("sla", "SLATarget")
    EscalationLevel = apps.get_model("sla", "EscalationLevel")
    china, _ = BusinessCalendar.objects.get_or_create(
        name="China working hours",
        defaults={"kind": "china", "time_zone": "Asia/Shanghai", "working_hours": WORKING_HOURS},
    )
    always, _ = BusinessCalendar.objects.get_or_create(
        name="24×7",
        defaults={"kind": "24x7", "time_zone": "Asia/Shanghai", "working_hours": ALWAYS},
    )
    policy, created = SLAPolicy.objects.get_or_create(
        name="Standard", defaults={"calendar": china, "position": 100, "warning_percent": 75}
    )
    if not created:
        return
    for priority, (first, following, resolution, acknowledgement) in TARGETS.items():
        SLATarget.objects.create(
            policy=policy,
            priority=priority,
            first_response_minutes=first,
            next_response_minutes=following,
            resolution_minutes=resolution,
            acknowledgement_minutes=acknowledgement,
            calendar=always if priority == "urgent" else None,
        )
    EscalationLevel.objects.create(
        policy=policy,
        level=1,
        minutes=0,
        notify_assignee=True,
        notify_supervisors=True,
        reassign_to_escalation_group=True,
        add_internal_note=True,
    )
    EscalationLevel.objects.create(
        policy=policy,
        level=2,
        minutes=120,
        notify_assignee=True,
        notify_supervisors=True,
        raise_priority=True,
        add_internal_note=True,
    )


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
