"""``{% availability_switch %}``: the signed-in agent's availability in the console navigation."""

from django import template

from kefu.routing.models import AgentProfile, Availability

register = template.Library()


@register.inclusion_tag("routing/_availability_switch.html", takes_context=True)
def availability_switch(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff_member:
        return {"show": False}
    profile = AgentProfile.objects.filter(user=user).first()
    return {
        "show": True,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "current": profile.availability if profile else Availability.AVAILABLE,
        "away_until": profile.away_until if profile else None,
        "choices": Availability.choices,
    }
