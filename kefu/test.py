"""The fixed cast every test uses, including the outsiders who must never see others' data.

Departments: ``cs`` (客服部, default), ``aftersales``, ``tech``, ``quality``.
Staff: ``admin``; ``supervisor`` (member of cs); ``agent`` (full in cs); ``tech_agent`` (full in
tech, read-only in cs); ``quality_agent`` (full in quality only — an outsider to cs tickets).
Customers: ``alice`` and ``alan`` of Acme (members share tickets); ``bob`` and ``bella`` of
Globex (no sharing); ``carol`` a consumer without organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from kefu.accounts.models import Access, ApiToken, Group, Membership, Role, User, hash_token
from kefu.customers.models import Contact, Organization

PASSWORD = "correct horse battery staple"


@dataclass
class Cast:
    cs: Group
    aftersales: Group
    tech: Group
    quality: Group
    admin: User
    supervisor: User
    agent: User
    tech_agent: User
    quality_agent: User
    acme: Organization
    globex: Organization
    alice: User
    alan: User
    bob: User
    bella: User
    carol: User

    def token(self, user: User) -> str:
        """An API token for ``user`` (created on first use)."""
        raw = f"kefu_test_{user.pk}_{user.email}"
        ApiToken.objects.get_or_create(
            token_hash=hash_token(raw), defaults={"user": user, "prefix": raw[:10], "name": "test"}
        )
        return raw


def _staff(email: str, name: str, role: str, memberships: list[tuple[Group, str]]) -> User:
    user = User.objects.create_user(email, PASSWORD, name=name, role=role)
    for group, access in memberships:
        Membership.objects.create(user=user, group=group, access=access)
    return user


def _customer(email: str, name: str, organization: Organization | None) -> User:
    user = User.objects.create_user(email, PASSWORD, name=name, role=Role.CUSTOMER)
    Contact.objects.create(name=name, email=email, organization=organization, user=user)
    return user


def make_cast() -> Cast:
    cs = Group.objects.create(name="客服部 Customer Service", is_default=True)
    aftersales = Group.objects.create(name="售后服务部 After-sales Service")
    tech = Group.objects.create(name="技术支持部 Technical Support")
    quality = Group.objects.create(name="质量管理部 Quality Management")
    acme = Organization.objects.create(
        name="Acme 有限公司", domain="acme.example", members_share_tickets=True
    )
    globex = Organization.objects.create(
        name="Globex", domain="globex.example", members_share_tickets=False
    )
    return Cast(
        cs=cs,
        aftersales=aftersales,
        tech=tech,
        quality=quality,
        admin=_staff("admin@kefu.example", "Ada Admin", Role.ADMIN, []),
        supervisor=_staff(
            "supervisor@kefu.example", "苏主管 Su", Role.SUPERVISOR, [(cs, Access.FULL)]
        ),
        agent=_staff("agent@kefu.example", "王小明 Wang", Role.AGENT, [(cs, Access.FULL)]),
        tech_agent=_staff(
            "tech@kefu.example", "Tina Tech", Role.AGENT, [(tech, Access.FULL), (cs, Access.READ)]
        ),
        quality_agent=_staff(
            "quality@kefu.example", "Quinn Quality", Role.AGENT, [(quality, Access.FULL)]
        ),
        acme=acme,
        globex=globex,
        alice=_customer("alice@acme.example", "Alice 李", acme),
        alan=_customer("alan@acme.example", "Alan", acme),
        bob=_customer("bob@globex.example", "Bob", globex),
        bella=_customer("bella@globex.example", "Bella", globex),
        carol=_customer("carol@mail.example", "Carol 陈", None),
    )
