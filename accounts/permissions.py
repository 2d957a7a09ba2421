"""Person-level permission decisions that every app builds on."""

from accounts.models import User


def can_write(user: User) -> bool:
    """Deactivated people and viewers change nothing, anywhere."""
    return user.is_active and user.role != User.Role.VIEWER
