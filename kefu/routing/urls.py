from django.urls import path

from kefu.routing import views

app_name = "routing"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("rules/new/", views.rule_new, name="rule_new"),
    path("rules/<int:pk>/", views.rule_detail, name="rule"),
    path("rules/<int:pk>/move/", views.rule_move, name="rule_move"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("groups/<int:pk>/", views.group_detail, name="group"),
    path("agents/", views.agents, name="agents"),
    path("agents/<int:pk>/", views.agent_detail, name="agent"),
    path("agents/<int:pk>/availability/", views.availability, name="agent_availability"),
    path("availability/", views.availability, name="availability"),
]
