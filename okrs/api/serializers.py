"""Output serializers of the OKR API, shaped for BI tools: ids, titles, the people named
(id, name, e-mail), the cached scores and their timestamps (ISO 8601 with offset).

They read only what the viewsets' querysets load (``okrs.api.selectors``): nothing here
queries per row. Input serializers live next to their views and are StrictInputSerializer
subclasses; ``VisibleRelatedField`` resolves ids named in a write through the person's
visibility, so an id they may not see reads as "does not exist", never as forbidden."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.fast_output import FastOutputMixin
from accounts.api.serializers import PersonSummarySerializer
from okrs import scoring
from okrs.models import (
    AlignmentProposal,
    CheckIn,
    Cycle,
    Escalation,
    Initiative,
    KeyResult,
    Kpi,
    KpiReading,
    Objective,
)


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """An id in a write, looked up among what the requesting person may see:
    ``visible(user)`` returns that queryset. Missing and invisible ids get the same
    "does not exist" error, so a write never confirms that something hidden exists."""

    def __init__(self, *, visible, resolve=True, **kwargs):
        """``resolve=False``: only the id's type is checked here, and the validated value is the
        id. The view then looks it up in a statement it makes anyway (the check-in's lock),
        decides visibility as ``visible(user)`` would (the same permission), and reports a miss
        or a hidden one with ``does_not_exist(pk)``: the same error."""
        self.visible = visible
        self.resolve = resolve
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:  # schema generation
            return self.queryset.none()
        return self.visible(request.user)

    def to_internal_value(self, data):
        if self.resolve:
            return super().to_internal_value(data)
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            return self.queryset.model._meta.pk.to_python(data)
        except DjangoValidationError:
            self.fail("incorrect_type", data_type=type(data).__name__)

    def does_not_exist(self, pk) -> serializers.ValidationError:
        """The error ``resolve=True`` would have raised for ``pk``, under this field's name."""
        try:
            self.fail("does_not_exist", pk_value=pk)
        except serializers.ValidationError as error:
            return serializers.ValidationError({self.field_name: error.detail})


class TeamSummarySerializer(FastOutputMixin, serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class CycleSerializer(serializers.ModelSerializer):
    parent = serializers.IntegerField(
        source="parent_id", read_only=True, allow_null=True, help_text="The annual cycle this one is part of."
    )

    class Meta:
        model = Cycle
        fields = ["id", "name", "kind", "state", "start_date", "end_date", "parent", "cadence", "created_at"]
        read_only_fields = fields


class KeyResultSerializer(FastOutputMixin, serializers.ModelSerializer):
    """A key result with its cached progress (0–1), status against the expected pace,
    forecast for the end of the cycle and the latest check-in's value and confidence."""

    objective = serializers.IntegerField(source="objective_id", read_only=True)
    cycle = serializers.IntegerField(source="objective.cycle_id", read_only=True)
    owner = PersonSummarySerializer(read_only=True)
    current = serializers.FloatField(
        read_only=True, allow_null=True, help_text="The value of the latest effective check-in."
    )
    confidence = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="0–10, from the latest effective check-in."
    )
    progress = serializers.FloatField(read_only=True, help_text="0–1.")
    forecast = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Projected progress at the end of the cycle (0–1)."
    )
    score = serializers.FloatField(read_only=True, allow_null=True, help_text="0–1.")

    class Meta:
        model = KeyResult
        fields = [
            "id", "objective", "cycle", "title", "owner", "kind", "unit", "currency_code", "unit_label",
            "start", "target", "low", "high", "weight", "due_date", "position",
            "current", "confidence", "last_check_in_at", "progress", "status", "forecast", "score",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ObjectiveSerializer(FastOutputMixin, serializers.ModelSerializer):
    """An objective with its cached progress (0–1), status, expected progress at this point
    of the cycle and score. ``parent_objective`` / ``parent_key_result`` is its accepted
    alignment (at most one is set)."""

    cycle = serializers.IntegerField(source="cycle_id", read_only=True)
    owner = PersonSummarySerializer(read_only=True)
    team = TeamSummarySerializer(read_only=True, allow_null=True)
    parent_objective = serializers.IntegerField(source="parent_objective_id", read_only=True, allow_null=True)
    parent_key_result = serializers.IntegerField(
        source="parent_key_result_id", read_only=True, allow_null=True
    )
    carried_from = serializers.IntegerField(
        source="carried_from_id",
        read_only=True,
        allow_null=True,
        help_text="The objective of an earlier cycle this one was carried over from.",
    )
    progress = serializers.FloatField(read_only=True, help_text="0–1.")
    expected_progress = serializers.FloatField(
        read_only=True, help_text="Where progress should be by now (0–1), from the cycle's calendar."
    )
    score = serializers.FloatField(read_only=True, allow_null=True, help_text="0–1.")

    class Meta:
        model = Objective
        fields = [
            "id", "title", "description", "cycle", "owner", "team", "level", "kind", "health_dimension",
            "visibility", "state", "parent_objective", "parent_key_result", "carried_from",
            "progress", "status", "expected_progress", "score", "needs_decision", "closing_note",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ObjectiveWithKeyResultsSerializer(ObjectiveSerializer):
    # Not read-only on purpose: the schema then lists it as optional (it is present only
    # with ?expand=key_results). This serializer is never used for input.
    key_results = KeyResultSerializer(
        many=True, required=False, help_text="Only with ?expand=key_results: the objective's key results."
    )

    class Meta(ObjectiveSerializer.Meta):
        fields = [*ObjectiveSerializer.Meta.fields, "key_results"]


class CheckInSerializer(FastOutputMixin, serializers.ModelSerializer):
    """A check-in. Check-ins are never edited: a correction is a new check-in whose
    ``corrects`` names the one it replaces (``corrected`` is then true on that one) and
    which takes its place in time (``effective_at``)."""

    key_result = serializers.IntegerField(source="key_result_id", read_only=True)
    objective = serializers.IntegerField(source="key_result.objective_id", read_only=True)
    author = PersonSummarySerializer(read_only=True)
    corrects = serializers.IntegerField(source="corrects_id", read_only=True, allow_null=True)
    corrected = serializers.BooleanField(
        read_only=True, help_text="True when a later check-in corrects this one (it no longer counts)."
    )

    class Meta:
        model = CheckIn
        fields = [
            "id", "key_result", "objective", "author", "value", "confidence", "what_moved", "blockers",
            "next_step", "corrects", "corrected", "effective_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class InitiativeSerializer(serializers.ModelSerializer):
    key_result = serializers.IntegerField(source="key_result_id", read_only=True)
    objective = serializers.IntegerField(source="key_result.objective_id", read_only=True)
    owner = PersonSummarySerializer(read_only=True)

    class Meta:
        model = Initiative
        fields = ["id", "key_result", "objective", "title", "owner", "done", "created_at"]
        read_only_fields = fields


class KpiReadingSerializer(serializers.ModelSerializer):
    kpi = serializers.IntegerField(source="kpi_id", read_only=True)

    class Meta:
        model = KpiReading
        fields = ["id", "kpi", "value", "at", "created_at"]
        read_only_fields = fields


class LatestReadingSerializer(serializers.Serializer):
    value = serializers.FloatField(read_only=True)
    at = serializers.DateTimeField(read_only=True)


class KpiSerializer(serializers.ModelSerializer):
    """A KPI with its latest reading and health (green / amber / red, or unknown without
    readings) and the key results linked to it that you may see."""

    owner = PersonSummarySerializer(read_only=True)
    latest_reading = serializers.SerializerMethodField()
    health = serializers.SerializerMethodField()
    key_results = serializers.SerializerMethodField()

    class Meta:
        model = Kpi
        fields = [
            "id", "name", "description", "unit", "owner", "direction", "green_threshold", "red_threshold",
            "latest_reading", "health", "key_results", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    @staticmethod
    def _latest(kpi: Kpi) -> KpiReading | None:
        return kpi.recent_readings[0] if kpi.recent_readings else None

    @extend_schema_field(LatestReadingSerializer(allow_null=True))
    def get_latest_reading(self, kpi: Kpi):
        latest = self._latest(kpi)
        return LatestReadingSerializer(latest).data if latest is not None else None

    @extend_schema_field(serializers.ChoiceField(choices=["green", "amber", "red", "unknown"]))
    def get_health(self, kpi: Kpi) -> str:
        latest = self._latest(kpi)
        return scoring.kpi_health(
            kpi.direction,
            green=kpi.green_threshold,
            red=kpi.red_threshold,
            value=latest.value if latest is not None else None,
        )

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_key_results(self, kpi: Kpi) -> list[int]:
        return [key_result.pk for key_result in kpi.visible_key_results]


class AlignmentProposalSerializer(serializers.ModelSerializer):
    """A proposal that ``child`` contributes to a parent objective or key result (exactly
    one of ``parent_objective`` / ``parent_key_result``); the parent's owner accepts or
    declines it with a response."""

    child = serializers.IntegerField(source="child_id", read_only=True)
    parent_objective = serializers.IntegerField(source="parent_objective_id", read_only=True, allow_null=True)
    parent_key_result = serializers.IntegerField(
        source="parent_key_result_id", read_only=True, allow_null=True
    )
    proposed_by = PersonSummarySerializer(read_only=True)
    decided_by = PersonSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = AlignmentProposal
        fields = [
            "id", "child", "parent_objective", "parent_key_result", "state", "message", "proposed_by",
            "response", "decided_by", "decided_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class EscalationSerializer(serializers.ModelSerializer):
    """An escalation of a key result behind pace (level 1: root cause due; 2: the objective
    needs a decision; 3: on the calibration agenda)."""

    key_result = serializers.IntegerField(source="key_result_id", read_only=True)
    objective = serializers.IntegerField(source="key_result.objective_id", read_only=True)
    acknowledged_by = PersonSummarySerializer(read_only=True, allow_null=True)
    resolution = serializers.ChoiceField(
        choices=Escalation.Resolution.choices,
        allow_blank=True,
        read_only=True,
        help_text="Empty until resolved; auto_recovered when it closed itself (back on track).",
    )
    resolved_by = PersonSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Escalation
        fields = [
            "id", "key_result", "objective", "level", "state", "behind_check_ins", "opened_at",
            "root_cause_due_at", "root_cause", "acknowledged_by", "acknowledged_at", "resolution",
            "resolution_note", "resolved_by", "resolved_at",
        ]  # fmt: skip
        read_only_fields = fields
