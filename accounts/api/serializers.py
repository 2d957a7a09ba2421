"""Shared serializer parts: strict input (unknown or read-only fields are refused, never
silently ignored: no mass assignment of owner, progress, status or anything computed) and
the error envelope's schema."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.api.fast_output import FastOutputMixin


class StrictInputSerializer(serializers.Serializer):
    """Base for every write serializer."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: [_("Unknown or read-only field; it cannot be set.")] for name in unknown}
                )
        return super().to_internal_value(data)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in the person's language.")
    code = serializers.CharField(
        help_text="Stable machine-readable code, e.g. invalid, not_found, throttled."
    )
    fields = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Per field (nested for nested input): the list of messages. Empty when not a field error.",
    )


class PersonSummarySerializer(FastOutputMixin, serializers.Serializer):
    """A person named in another object (owner, author …): select_related the relation."""

    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)


class PlausibleDateTimeField(serializers.DateTimeField):
    """A moment from 1970 to 9000: anything else is a typo; very old dates would come
    back with local-mean-time offsets that are not valid ISO 8601, and the year 9999 can
    overflow when shown in a time zone east of UTC."""

    default_error_messages = {"implausible": _("Give a date and time between 1970 and 9000.")}

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if not 1970 <= moment.year <= 9000:
            self.fail("implausible")
        return moment
