"""Faster output for the API's read serializers (the load benchmark's slowest path).

DRF turns an object into a dict field by field through generic machinery: for every field of
every row it resolves the source, checks for callables and defaults, and asks Django for the
current time zone once per date-time. A page of 50 objectives with their ~200 key results is
~6,000 such calls, which made ``?expand=key_results`` spend more time serialising than querying.

``FastOutputMixin`` gives the same output with less work: the first row of a request compiles,
per field, how to read it (an attribute chain) and how to write it (``int``, ``float``, ``str``,
ISO 8601 in the request's time zone, a nested serializer), and every row then runs that plan.
Anything it does not know exactly how to render (related fields, choices, booleans, method
fields, subclasses with their own ``to_representation``) goes through DRF as before, so the
output is identical: ``tests/api/test_fast_output.py`` compares both for every object.
"""

from __future__ import annotations

import copy

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models.manager import BaseManager
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

_PLAIN = {
    serializers.IntegerField: int,
    serializers.FloatField: float,
    serializers.CharField: str,
    serializers.EmailField: str,
}


def _iso_datetime(tz):
    def convert(value):
        if isinstance(value, str) or not timezone.is_aware(value):
            return None  # rendered by DRF instead
        try:
            value = value.astimezone(tz)
        except OverflowError:
            return None  # DRF raises its own error
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


def _iso_date(value):
    return value if isinstance(value, str) else value.isoformat()


def _converter(field):
    """How to write a non-None value of ``field``: a function, or None to let DRF do it."""
    kind = type(field)
    if kind in _PLAIN:
        return _PLAIN[kind]
    if isinstance(field, serializers.DateTimeField) and (
        kind.to_representation is serializers.DateTimeField.to_representation
        and kind.enforce_timezone is serializers.DateTimeField.enforce_timezone
        and getattr(field, "format", api_settings.DATETIME_FORMAT) == ISO_8601
        and not hasattr(field, "timezone")
        and settings.USE_TZ
    ):
        return _iso_datetime(timezone.get_current_timezone())
    if kind is serializers.DateField and getattr(field, "format", api_settings.DATE_FORMAT) == ISO_8601:
        return _iso_date
    if isinstance(field, FastOutputMixin):
        return field.to_representation
    if isinstance(field, serializers.ListSerializer) and isinstance(field.child, FastOutputMixin):
        child = field.child.to_representation

        def many(value):
            rows = value.all() if isinstance(value, BaseManager) else value
            return [child(row) for row in rows]

        return many
    return None


class FastOutputMixin:
    """For read serializers: the same representation as DRF's, computed from a per-request plan.

    Its fields are built once per class: a ``ModelSerializer`` otherwise derives every field
    from the model again for each instance (1.1 ms for a check-in's, four times the cost of
    copying them). Each instance gets its own copy, unbound, as DRF's declared fields do."""

    def get_fields(self):
        cls = type(self)
        template = cls.__dict__.get("_fields_template")
        if template is None:
            template = super().get_fields()
            cls._fields_template = template
        return copy.deepcopy(template)

    def _plan(self):
        plan = self.__dict__.get("_fast_plan")
        if plan is None:
            plan = []
            for field in self._readable_fields:
                simple_source = type(field).get_attribute is serializers.Field.get_attribute
                plan.append((field, field.field_name, field.source_attrs if simple_source else None,
                             _converter(field)))  # fmt: skip
            self.__dict__["_fast_plan"] = plan
        return plan

    def to_representation(self, instance):
        result = {}
        for field, name, attrs, convert in self._plan():
            value = _read(instance, attrs) if attrs is not None else _MISSING
            if value is _MISSING:
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
                check = value.pk if isinstance(value, PKOnlyObject) else value
                result[name] = None if check is None else field.to_representation(value)
                continue
            if value is None:
                result[name] = None
            elif convert is None:
                result[name] = field.to_representation(value)
            else:
                converted = convert(value)
                result[name] = field.to_representation(value) if converted is None else converted
        return result


_MISSING = object()


def _read(instance, attrs):
    """The attribute chain's value, or _MISSING when DRF's own lookup must decide (a missing
    attribute, a mapping, a callable: defaults, SkipField and calls are DRF's business)."""
    value = instance
    try:
        for attr in attrs:
            if isinstance(value, dict):
                return _MISSING
            value = getattr(value, attr)
    except ObjectDoesNotExist:
        return None
    except AttributeError:
        return _MISSING
    if callable(value) and not isinstance(value, BaseManager):
        return _MISSING
    return value
