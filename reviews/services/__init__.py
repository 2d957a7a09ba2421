"""Writes on reviews. Every function takes keyword arguments and an explicit ``actor``,
checks permissions with ``reviews.permissions``, validates and runs in a transaction.
A closed review is read-only.

Callers import from here (``from reviews.services import review_submit_self``); the
modules behind it are an implementation detail.
"""

from reviews.services.calibration import calibration_decide
from reviews.services.cycles import (
    okr_cycle_start,
    review_cycle_close,
    review_cycle_create,
    review_cycle_open,
    review_cycles_auto_schedule,
    review_cycles_schedule,
    review_plan,
)
from reviews.services.peer_feedback import peer_feedback_answer, peer_feedback_request
from reviews.services.workflow import (
    review_calibrate,
    review_close,
    review_contest,
    review_resolve_contest,
    review_submit_self,
)

__all__ = [
    "calibration_decide",
    "okr_cycle_start",
    "peer_feedback_answer",
    "peer_feedback_request",
    "review_calibrate",
    "review_close",
    "review_contest",
    "review_cycle_close",
    "review_cycle_create",
    "review_cycle_open",
    "review_cycles_auto_schedule",
    "review_cycles_schedule",
    "review_plan",
    "review_resolve_contest",
    "review_submit_self",
]
