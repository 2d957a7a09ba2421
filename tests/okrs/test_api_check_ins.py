"""/api/v1/check-ins/: append-only (list and create only), visible through their objective,
recorded through check_in_record, idempotent with an Idempotency-Key."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import IdempotencyRecord, User
from okrs.models import CheckIn, KeyResult, Objective
from tests.api_helpers import count_queries, session_api, tenant, token_api

pytestmark = pytest.mark.django_db

URL = "/api/v1/check-ins/"
SRE, LEAD, ANALYST, CEO, VIEWER = (
    "sre@acme.example", "platform.lead@acme.example", "analyst@acme.example", "ceo@acme.example",
    "board@acme.example",
)  # fmt: skip
REPEATS = "Repeat incidents from 12 to 2 per month"  # the SRE's key result (decrease, 12 → 2)
RUNBOOKS = "Runbooks for the top 20 alerts published"  # the SRE's milestone


def kr_titled(organization, title: str) -> KeyResult:
    return tenant(organization, lambda: KeyResult.objects.select_related("objective").get(title=title))


def count(organization) -> int:
    return tenant(organization, CheckIn.objects.count)


def all_pages(client, url: str) -> list[dict]:
    rows, response = [], client.get(url)
    while True:
        assert response.status_code == 200, response.json()
        rows += response.json()["results"]
        if not response.json()["next"]:
            return rows
        response = client.get(response.json()["next"])


# --- Reading ----------------------------------------------------------------------------------------


def test_list_newest_first_with_the_bi_fields(acme):
    kr = kr_titled(acme, REPEATS)

    rows = session_api(acme, ANALYST).get(f"{URL}?key_result={kr.pk}&page_size=100").json()["results"]

    latest = tenant(acme, lambda: CheckIn.objects.filter(key_result=kr).select_related("author").latest("id"))
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    assert len(rows) == tenant(acme, lambda: CheckIn.objects.filter(key_result=kr).count())
    row = rows[0]
    assert row == {
        "id": latest.pk, "key_result": kr.pk, "objective": kr.objective_id,
        "author": {"id": latest.author_id, "full_name": "Mei Wang", "email": SRE},
        "value": latest.value, "confidence": latest.confidence, "what_moved": latest.what_moved,
        "blockers": "", "next_step": "", "corrects": None, "corrected": False,
        "effective_at": row["effective_at"], "created_at": row["created_at"],
    }  # fmt: skip
    assert datetime.fromisoformat(row["effective_at"]) == latest.effective_at


def test_check_ins_of_invisible_objectives_are_hidden(acme):
    kr = kr_titled(acme, REPEATS)
    tenant(acme, lambda: Objective.objects.filter(pk=kr.objective_id).update(visibility="private"))

    outsider = session_api(acme, ANALYST).get(f"{URL}?key_result={kr.pk}").json()["results"]
    manager = session_api(acme, LEAD).get(f"{URL}?key_result={kr.pk}").json()["results"]

    assert outsider == []
    assert len(manager) > 0


def test_filters(acme):
    client = session_api(acme, CEO)
    kr = kr_titled(acme, REPEATS)
    lead = tenant(acme, lambda: User.objects.get(email=LEAD))

    def ids(query):
        return sorted(r["id"] for r in all_pages(client, f"{URL}?page_size=100&{query}"))

    def expected(**filters):
        return sorted(
            tenant(acme, lambda: list(CheckIn.objects.filter(**filters).values_list("id", flat=True)))
        )

    assert ids(f"objective={kr.objective_id}") == expected(key_result__objective=kr.objective_id) != []
    assert ids(f"author={lead.pk}") == expected(author=lead) != []
    since = tenant(
        acme, lambda: CheckIn.objects.order_by("-created_at").values_list("created_at", flat=True)[3]
    )
    assert ids("since=" + since.isoformat().replace("+00:00", "Z")) == expected(created_at__gte=since)
    assert 0 < len(expected(created_at__gte=since)) < tenant(acme, CheckIn.objects.count)
    bad = client.get(f"{URL}?since=last-week&author=me")
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"since", "author"}


def test_list_query_count_is_constant(acme):
    kr = kr_titled(acme, REPEATS)

    def make():
        sre = User.objects.get(email=SRE)
        start = timezone.now() - timedelta(days=200)
        CheckIn.objects.bulk_create(
            CheckIn(
                key_result=kr, author=sre, value=10, confidence=5, effective_at=start + timedelta(hours=n)
            )
            for n in range(110)
        )

    tenant(acme, make)
    client = session_api(acme, SRE)

    small, small_count = count_queries(lambda: client.get(f"{URL}?page_size=10"))
    large, large_count = count_queries(lambda: client.get(f"{URL}?page_size=100"))

    assert (len(small.json()["results"]), len(large.json()["results"])) == (10, 100)
    # host lookup (3), session, user, check-ins with author, KR and "corrected" (the reporting
    # lines are a subquery)
    assert small_count == large_count == 6


# --- Recording ------------------------------------------------------------------------------------------


def test_the_owner_records_a_check_in_and_the_key_result_follows(acme):
    kr = kr_titled(acme, REPEATS)
    before = count(acme)

    response = session_api(acme, SRE).post(
        URL,
        {
            "key_result": kr.pk,
            "value": 3,
            "confidence": 8,
            "what_moved": "Dedup rules shipped.",
            "next_step": "Tune",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["key_result"], body["value"], body["confidence"], body["what_moved"], body["next_step"]) == (
        kr.pk, 3.0, 8, "Dedup rules shipped.", "Tune",
    )  # fmt: skip
    assert body["author"]["email"] == SRE
    assert count(acme) == before + 1
    # The answer is built from what was recorded, not read back: it is what the list shows.
    listed = session_api(acme, SRE).get(f"{URL}?key_result={kr.pk}&page_size=1").json()["results"]
    assert listed == [body]
    saved = kr_titled(acme, REPEATS)
    assert (saved.current, saved.confidence) == (3.0, 8)
    assert saved.progress == pytest.approx(0.9)


def test_a_correction_takes_the_place_of_the_corrected_check_in(acme):
    kr = kr_titled(acme, REPEATS)
    last = tenant(acme, lambda: CheckIn.objects.filter(key_result=kr).latest("id"))
    client = session_api(acme, SRE)

    response = client.post(
        URL, {"key_result": kr.pk, "value": 7, "confidence": 6, "corrects": last.pk}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["corrects"] == last.pk
    assert datetime.fromisoformat(response.json()["effective_at"]) == last.effective_at
    listed = {r["id"]: r for r in client.get(f"{URL}?key_result={kr.pk}&page_size=3").json()["results"]}
    assert listed[last.pk]["corrected"] is True
    assert listed[response.json()["id"]]["corrected"] is False
    again = client.post(
        URL, {"key_result": kr.pk, "value": 6, "confidence": 6, "corrects": last.pk}, format="json"
    )
    assert again.status_code == 400
    assert set(again.json()["fields"]) == {"corrects"}


def test_validation_errors_name_the_field(acme):
    kr = kr_titled(acme, REPEATS)
    milestone = kr_titled(acme, RUNBOOKS)
    other_kr_check_in = tenant(acme, lambda: CheckIn.objects.exclude(key_result=kr).first())
    client = session_api(acme, SRE)
    before = count(acme)

    def post(body):
        return client.post(URL, {"key_result": kr.pk, "value": 3, "confidence": 5, **body}, format="json")

    responses = {
        "confidence": post({"confidence": 11}),
        "value": post({"value": "lots"}),
        "milestone": post({"key_result": milestone.pk, "value": 0.5}),
        "unknown": post({"author": 1, "effective_at": "2026-01-01T00:00:00Z"}),
        "missing": client.post(URL, {"key_result": kr.pk}, format="json"),
        "other_kr": post({"corrects": other_kr_check_in.pk}),
        "no_kr": post({"key_result": 999999}),
    }

    fields = {name: set(r.json()["fields"]) for name, r in responses.items()}
    assert {r.status_code for r in responses.values()} == {400}
    assert fields == {
        "confidence": {"confidence"}, "value": {"value"}, "milestone": {"value"},
        "unknown": {"author", "effective_at"}, "missing": {"value", "confidence"}, "other_kr": {"corrects"},
        "no_kr": {"key_result"},
    }  # fmt: skip
    assert responses["milestone"].json()["fields"]["value"] == [
        "A milestone is either 0 (not reached) or 1 (reached)."
    ]
    assert count(acme) == before


def test_a_key_result_one_may_not_see_reads_as_not_existing(acme):
    """The key result is looked up by the check-in's lock, then its visibility decided (after the
    lock, by the page's permission): a hidden one gets the same answer as a missing id, and a
    malformed id names the field; nothing is written."""
    kr = kr_titled(acme, REPEATS)
    tenant(acme, lambda: Objective.objects.filter(pk=kr.objective_id).update(visibility="private"))
    client = session_api(acme, ANALYST)
    before = count(acme)

    def post(key_result):
        return client.post(URL, {"key_result": key_result, "value": 3, "confidence": 5}, format="json")

    hidden, missing = post(kr.pk), post(999999)
    malformed = [post(bad) for bad in ("abc", True, [kr.pk], 1.5, 10**30)]

    assert (hidden.status_code, missing.status_code) == (400, 400)
    assert hidden.json()["fields"] == {"key_result": [f'Invalid pk "{kr.pk}" - object does not exist.']}
    assert missing.json()["fields"] == {"key_result": ['Invalid pk "999999" - object does not exist.']}
    assert [(r.status_code, set(r.json()["fields"])) for r in malformed] == [(400, {"key_result"})] * 5
    assert count(acme) == before


def test_refused_check_ins_record_nothing(acme):
    kr = kr_titled(acme, REPEATS)
    body = {"key_result": kr.pk, "value": 3, "confidence": 5}
    before = count(acme)

    colleague = session_api(acme, "backend@acme.example").post(URL, body, format="json")
    viewer = session_api(acme, VIEWER).post(URL, body, format="json")
    read_token = token_api(acme, SRE, scope="read").post(URL, body, format="json")

    assert colleague.status_code == 403
    assert colleague.json()["detail"] == "Only the key result's owner can check in on it."
    assert viewer.status_code == 403
    assert read_token.status_code == 403
    assert count(acme) == before


def test_check_ins_cannot_be_changed_or_deleted(acme):
    check_in = tenant(acme, CheckIn.objects.first)
    client = session_api(acme, CEO)

    assert client.get(f"{URL}{check_in.pk}/").status_code == 404
    assert client.patch(f"{URL}{check_in.pk}/", {"value": 1}, format="json").status_code == 404
    assert client.delete(f"{URL}{check_in.pk}/").status_code == 404
    assert client.put(URL, {"value": 1}, format="json").status_code == 405


# --- Idempotency ------------------------------------------------------------------------------------


def test_a_repeated_idempotency_key_returns_the_first_response_and_records_nothing(acme):
    kr = kr_titled(acme, REPEATS)
    client = token_api(acme, SRE)
    body = {"key_result": kr.pk, "value": 4, "confidence": 7}
    before = count(acme)

    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="6f1c1c0e-checkin-1")
    repeat = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="6f1c1c0e-checkin-1")
    changed = client.post(URL, {**body, "value": 5}, format="json", HTTP_IDEMPOTENCY_KEY="6f1c1c0e-checkin-1")

    assert first.status_code == repeat.status_code == 201
    assert repeat.json() == first.json()
    assert repeat["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert changed.status_code == 422
    assert changed.json()["code"] == "idempotency_key_reused"
    assert count(acme) == before + 1
    assert tenant(acme, IdempotencyRecord.objects.count) == 1


def test_a_refused_request_stores_no_idempotency_record(acme):
    kr = kr_titled(acme, REPEATS)
    client = session_api(acme, "backend@acme.example")

    response = client.post(
        URL, {"key_result": kr.pk, "value": 4, "confidence": 7}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert response.status_code == 403
    assert tenant(acme, IdempotencyRecord.objects.count) == 0


@pytest.mark.parametrize(
    ("since", "status"),
    [
        ("0041-04-08T06:10:47.723-23:18", 200),  # an offset PostgreSQL would refuse: compared in UTC
        ("0001-01-01T00:00:00+23:59", 400),  # before year 1 in UTC
        ("2026-11-01", 200),  # a date alone: midnight in the person's time zone
    ],
)
def test_since_takes_any_iso_datetime_without_a_server_error(acme, since, status):
    response = session_api(acme, SRE).get(URL, {"since": since})

    assert response.status_code == status
    if status == 400:
        assert set(response.json()["fields"]) == {"since"}
