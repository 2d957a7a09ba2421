"""Serializers of the review API. Output shows a review as its page does (grades only to
those ``shows_review_scores`` allows); input serializers mirror the services' arguments
and check only types — ``reviews.services`` enforces every rule."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.filters import MAX_ID
from accounts.api.serializers import PersonSummarySerializer, StrictInputSerializer
from accounts.models import User
from reviews.api.common import shows_review_scores
from reviews.forms import TEXT_LIMIT
from reviews.models import PeerFeedbackRequest, Review, ReviewCycle

# --- output --------------------------------------------------------------------------------


class ReviewCycleSerializer(serializers.ModelSerializer):
    cycle = serializers.IntegerField(source="cycle_id", read_only=True, help_text="The OKR cycle's id.")
    cycle_name = serializers.CharField(source="cycle.name", read_only=True)
    teams = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text="Teams taking part; empty when everyone takes part."
    )

    class Meta:
        model = ReviewCycle
        fields = [
            "id", "cycle", "cycle_name", "kind", "name", "opens_on", "due_on", "state",
            "all_participants", "teams", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ReviewCycleSummarySerializer(serializers.ModelSerializer):
    cycle = serializers.IntegerField(source="cycle_id", read_only=True, help_text="The OKR cycle's id.")

    class Meta:
        model = ReviewCycle
        fields = ["id", "name", "kind", "state", "opens_on", "due_on", "cycle"]
        read_only_fields = fields


class ReviewObjectiveSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    state = serializers.CharField(read_only=True)
    progress = serializers.FloatField(read_only=True, help_text="Objective progress now, 0.0–1.0.")


class ReviewKeyResultSerializer(serializers.Serializer):
    key_result = serializers.IntegerField(source="key_result_id", read_only=True)
    title = serializers.CharField(source="key_result.title", read_only=True)
    progress = serializers.FloatField(source="key_result.progress", read_only=True)


class ReviewKeyResultGradesSerializer(serializers.Serializer):
    key_result = serializers.IntegerField(source="key_result_id", read_only=True)
    self_score = serializers.FloatField(read_only=True, allow_null=True)
    manager_score = serializers.FloatField(read_only=True, allow_null=True)


class ReviewGradesSerializer(serializers.Serializer):
    self_score = serializers.FloatField(read_only=True, allow_null=True)
    manager_score = serializers.FloatField(read_only=True, allow_null=True)
    contested_manager_score = serializers.FloatField(
        read_only=True, allow_null=True, help_text="The calibrated score when it was contested."
    )
    key_results = ReviewKeyResultGradesSerializer(source="key_result_scores.all", many=True, read_only=True)


class ReviewPeerFeedbackSerializer(serializers.ModelSerializer):
    reviewer = PersonSummarySerializer(read_only=True)
    requested_by = PersonSummarySerializer(read_only=True)

    class Meta:
        model = PeerFeedbackRequest
        fields = ["id", "reviewer", "requested_by", "question", "answer", "requested_at", "answered_at"]
        read_only_fields = fields


class ReviewSerializer(serializers.ModelSerializer):
    review_cycle = ReviewCycleSummarySerializer(read_only=True)
    objective = ReviewObjectiveSerializer(read_only=True)
    participant = PersonSummarySerializer(read_only=True)
    manager = PersonSummarySerializer(read_only=True, allow_null=True)
    is_contested = serializers.BooleanField(read_only=True, help_text="Contested and not resolved yet.")
    key_results = ReviewKeyResultSerializer(source="key_result_scores.all", many=True, read_only=True)
    grades = serializers.SerializerMethodField(
        help_text="Self and calibrated grades: null unless the organisation lets review scores feed "
        "appraisals, or you are the participant or may calibrate the review or resolve its contest."
    )
    calibrated_by = PersonSummarySerializer(read_only=True, allow_null=True)
    contest_resolved_by = PersonSummarySerializer(read_only=True, allow_null=True)
    peer_feedback = ReviewPeerFeedbackSerializer(source="peer_requests.all", many=True, read_only=True)

    class Meta:
        model = Review
        fields = [
            "id", "review_cycle", "objective", "participant", "manager", "state", "is_contested",
            "key_results", "grades",
            "went_well", "didnt_go_well", "learnings", "next_steps", "problem", "information", "answer",
            "submitted_at", "manager_comment", "calibrated_by", "calibrated_at",
            "contest_reason", "contested_at", "contest_resolution", "contest_resolved_by",
            "contest_resolved_at", "peer_feedback", "closed_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ReviewGradesSerializer(allow_null=True))
    def get_grades(self, review: Review):
        user = self.context["request"].user
        if not shows_review_scores(user, review, scores_feed_appraisal=self.context["scores_feed_appraisal"]):
            return None
        return ReviewGradesSerializer(review).data


class FeedbackObjectiveSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)


class PeerFeedbackRequestSerializer(serializers.ModelSerializer):
    """A request for feedback as the colleague asked sees it."""

    review = serializers.IntegerField(source="review_id", read_only=True)
    review_state = serializers.CharField(
        source="review.state",
        read_only=True,
        help_text="A closed review's requests can no longer be answered.",
    )
    review_cycle = serializers.CharField(source="review.review_cycle.name", read_only=True)
    objective = FeedbackObjectiveSerializer(source="review.objective", read_only=True)
    participant = PersonSummarySerializer(source="review.participant", read_only=True)
    requested_by = PersonSummarySerializer(read_only=True)
    reviewer = PersonSummarySerializer(read_only=True)

    class Meta:
        model = PeerFeedbackRequest
        fields = [
            "id", "review", "review_state", "review_cycle", "objective", "participant", "requested_by",
            "reviewer", "question", "answer", "requested_at", "answered_at",
        ]  # fmt: skip
        read_only_fields = fields


# --- input ---------------------------------------------------------------------------------


def _text(**kwargs) -> serializers.CharField:
    kwargs.setdefault("required", False)
    if not kwargs["required"]:
        kwargs.setdefault("default", "")
    return serializers.CharField(max_length=TEXT_LIMIT, allow_blank=True, trim_whitespace=True, **kwargs)


def _score(**kwargs) -> serializers.FloatField:
    return serializers.FloatField(min_value=0.0, max_value=1.0, **kwargs)


class KeyResultScoreInputSerializer(StrictInputSerializer):
    key_result = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="A key result of the review."
    )
    score = _score()


class KeyResultScoresField(serializers.ListField):
    """``[{"key_result": id, "score": 0.0–1.0}, …]``, each key result once; passed to the
    service as ``{id: score}``."""

    child = KeyResultScoreInputSerializer()

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault(
            "help_text", "Grades per key result of the review; key results left out keep their grade."
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        rows = super().to_internal_value(data)
        scores = {row["key_result"]: row["score"] for row in rows}
        if len(scores) != len(rows):
            raise serializers.ValidationError(_("Give each key result one score."))
        return scores


class SelfReviewInputSerializer(StrictInputSerializer):
    self_score = _score(help_text="Your grade for the objective, 0.0–1.0 (0.7 is a good result).")
    key_result_scores = KeyResultScoresField()
    went_well = _text()
    didnt_go_well = _text()
    learnings = _text()
    next_steps = _text()
    problem = _text(help_text="Required in an end-of-cycle review: the problem.")
    information = _text(help_text="Required in an end-of-cycle review: what you found out.")
    answer = _text(help_text="Required in an end-of-cycle review: your answer.")


class CalibrationInputSerializer(StrictInputSerializer):
    manager_score = _score(help_text="The calibrated grade, 0.0–1.0.")
    comment = _text(help_text="Required when the grade differs from the self score by more than 0.1.")
    key_result_scores = KeyResultScoresField()


class ContestInputSerializer(StrictInputSerializer):
    reason = _text(required=True, help_text="Why you contest the calibration (once per review).")


class ResolveContestInputSerializer(StrictInputSerializer):
    resolution = _text(required=True, help_text="How the contest was resolved, and why.")
    manager_score = _score(
        required=False, allow_null=True, default=None,
        help_text="A new calibrated grade if the contest is upheld; left out, the grade stays.",
    )  # fmt: skip


class PeerFeedbackRequestInputSerializer(StrictInputSerializer):
    reviewer = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), help_text="The colleague to ask (active, not a viewer, not asked yet)."
    )
    question = _text(help_text="What you would like their view on.")


class PeerFeedbackAnswerInputSerializer(StrictInputSerializer):
    answer = _text(required=True, help_text="Your feedback (once).")
