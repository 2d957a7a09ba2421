"""Pieces shared by the OKR API's viewsets."""

from __future__ import annotations


def changed_values(instance, values: dict) -> dict:
    """Of ``values``, only those that differ from the saved ``instance`` (as the edit forms
    do): the update service is told nothing else, and the audit history gets no empty entry."""
    return {name: value for name, value in values.items() if value != getattr(instance, name)}
