"""The account Gatehouse itself acts as, where a record needs a person (e.g. an incident's reporter)."""

from django.contrib.auth import get_user_model

SYSTEM_USERNAME = "gatehouse"


def system_user():
    """An inactive account with no usable password: it cannot sign in, and notices skip it.

    Audit events of system actions name no actor ("system"); this account is only for foreign keys
    that must point at someone.
    """
    User = get_user_model()
    user = User.objects.filter(username=SYSTEM_USERNAME).first()
    if user is None:
        user, created = User.objects.get_or_create(
            username=SYSTEM_USERNAME, defaults={"is_active": False, "first_name": "Gatehouse"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    return user
