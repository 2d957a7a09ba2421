"""Realistic demo OKRs for one organisation, made through the real services.

An annual strategic cycle and the current quarter; company → team → individual
objectives aligned both ways (to objectives and to key results, one proposal still
waiting for an answer); key results of every type; weekly check-ins since the quarter
began, some behind pace; KPIs with readings linked to the KRs they should move.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from accounts.models import User
from okrs.models import Cycle, KeyResult, Objective
from okrs.services.alignment import alignment_propose
from okrs.services.check_ins import check_in_record
from okrs.services.cycles import cycle_activate, cycle_create
from okrs.services.kpis import kpi_create, kpi_link_key_result, kpi_reading_record
from okrs.services.objectives import initiative_create, key_result_create, objective_create


@dataclass(frozen=True)
class KR:
    title: str
    kind: str
    start: float | None = None
    target: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str = "number"
    unit_label: str = ""
    currency: str = ""
    pace: float = 1.0  # 1.0 keeps pace with the calendar; lower falls behind


@dataclass(frozen=True)
class Obj:
    key: str
    title: str
    owner: str  # local part of the owner's e-mail
    level: str
    dimension: str
    krs: tuple[KR, ...]
    annual: bool = False
    parent: str | None = None  # key of the parent objective, or "key#n" for its n-th KR
    kind: str = "committed"
    accepted: bool = True
    initiative: str = ""


ACME = (
    Obj("members", "Become the membership programme customers renew without thinking", "ceo", "company",
      "customer_value", (KR("Renewal rate from 82% to 88%", "increase", 82, 88, unit="percent", pace=0.8),
                         KR("Paying members from 1.2M to 1.5M", "increase", 1.2, 1.5, unit_label="M members"),
                         KR("Gross margin stays above 20%", "stay_above", 22, 20, unit="percent")),
      annual=True),
    Obj("platform", "Make the platform a technology moat", "cto", "company", "technology_moat",
      (KR("p95 checkout latency from 900 to 300 ms", "decrease", 900, 300, unit_label="ms", pace=0.6),
       KR("Monthly downtime stays below 20 minutes", "stay_below", 10, 20, unit_label="minutes")),
      annual=True),
    Obj("deploys", "Ship changes safely every day", "platform.lead", "team", "technology_moat",
      (KR("Deploy time from 40 to 10 minutes", "decrease", 40, 10, unit_label="minutes"),
       KR("Change failure rate from 18% to 8%", "decrease", 18, 8, unit="percent", pace=0.4),
       KR("Error budget burn stays between 20% and 80%", "stay_between", low=20, high=80, unit="percent")),
      parent="platform#0", initiative="Parallelise the integration test suite"),
    Obj("sre", "Nobody is woken up twice for the same incident", "sre", "individual",
      "operational_excellence",
      (KR("Repeat incidents from 12 to 2 per month", "decrease", 12, 2, unit_label="incidents"),
       KR("Runbooks for the top 20 alerts published", "milestone")), parent="deploys"),
    Obj("growth", "Grow where customers already love us", "growth.lead", "team", "financial_return",
      (KR("Referral sign-ups from 3k to 9k a month", "increase", 3, 9, unit_label="k/month", pace=1.1),
       KR("Paid CAC from €48 to €35", "decrease", 48, 35, unit="currency", currency="EUR", pace=0.5)),
      parent="members#1"),
    Obj("cs", "Every customer succeeds in their first 30 days", "cs.lead", "team", "customer_value",
      (KR("Onboarding NPS from 31 to 50", "increase", 31, 50, unit_label="NPS", pace=0.9),
       KR("Time to first value from 9 to 3 days", "decrease", 9, 3, unit_label="days")),
      parent="members", accepted=False),
    Obj("sales", "Land the enterprise segment", "sales.lead", "team", "financial_return",
      (KR("Enterprise ARR from €2.0M to €3.5M", "increase", 2.0, 3.5, unit="currency", currency="EUR",
          unit_label="M", pace=0.7),
       KR("Win rate from 18% to 25%", "increase", 18, 25, unit="percent")), kind="aspirational"),
)  # fmt: skip

GLOBEX = (
    Obj("members", "成为客户无需犹豫就会续费的会员计划", "ceo", "company", "customer_value",
      (KR("续费率从 82% 提升到 88%", "increase", 82, 88, unit="percent", pace=0.8),
       KR("付费会员从 120 万增长到 150 万", "increase", 120, 150, unit_label="万人"),
       KR("毛利率保持在 20% 以上", "stay_above", 22, 20, unit="percent")),
      annual=True),
    Obj("platform", "把平台打造成技术护城河", "cto", "company", "technology_moat",
      (KR("结账 p95 延迟从 900 毫秒降到 300 毫秒", "decrease", 900, 300, unit_label="毫秒", pace=0.6),
       KR("每月停机时间保持在 20 分钟以内", "stay_below", 10, 20, unit_label="分钟")),
      annual=True),
    Obj("deploys", "每天安全地发布变更", "platform.lead", "team", "technology_moat",
      (KR("部署时间从 40 分钟缩短到 10 分钟", "decrease", 40, 10, unit_label="分钟"),
       KR("变更失败率从 18% 降到 8%", "decrease", 18, 8, unit="percent", pace=0.4),
       KR("错误预算消耗保持在 20% 到 80% 之间", "stay_between", low=20, high=80, unit="percent")),
      parent="platform#0", initiative="并行化集成测试"),
    Obj("sre", "同一个事故不再让人半夜被叫醒两次", "sre", "individual", "operational_excellence",
      (KR("重复事故从每月 12 起降到 2 起", "decrease", 12, 2, unit_label="起"),
       KR("前 20 个告警的处理手册上线", "milestone")), parent="deploys"),
    Obj("growth", "在客户已经喜爱我们的地方增长", "growth.lead", "team", "financial_return",
      (KR("推荐注册从每月 3 千增长到 9 千", "increase", 3, 9, unit_label="千/月", pace=1.1),
       KR("付费获客成本从 ¥380 降到 ¥280", "decrease", 380, 280, unit="currency", currency="CNY", pace=0.5)),
      parent="members#1"),
    Obj("cs", "每位客户在前 30 天内取得成功", "cs.lead", "team", "customer_value",
      (KR("新客 NPS 从 31 提升到 50", "increase", 31, 50, unit_label="NPS", pace=0.9),
       KR("首次见效时间从 9 天缩短到 3 天", "decrease", 9, 3, unit_label="天")),
      parent="members", accepted=False),
)  # fmt: skip

KPIS = {
    "acme.example": [
        ("Weekly churn", "%", "cto", "lower_is_better", 1.5, 3.0, 2.4, "members#0"),
        ("Support tickets per 1k orders", "tickets", "cs.lead", "lower_is_better", 4.0, 8.0, 5.2, "cs#0"),
        ("Net revenue retention", "%", "ceo", "higher_is_better", 110, 95, 104, "members#1"),
    ],
    "globex.example": [
        ("周流失率", "%", "cto", "lower_is_better", 1.5, 3.0, 3.4, "members#0"),
        ("每千单客服工单", "单", "cs.lead", "lower_is_better", 4.0, 8.0, 5.2, "cs#0"),
    ],
}


def _quarter_of(day: date) -> tuple[date, date]:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    end = date(day.year + (first_month == 10), (first_month + 2) % 12 + 1, 1) - timedelta(days=1)
    return start, end


def _value_at(kr: KR, fraction: float, rng: random.Random) -> float:
    """Where a KR stands after ``fraction`` of the quarter, at its pace, with noise."""
    if kr.kind == "milestone":
        return 1.0 if fraction * kr.pace > 0.8 else 0.0
    if kr.kind == "stay_between":
        return round(rng.uniform(kr.low - 5, kr.high + 5), 1)
    if kr.kind in {"stay_above", "stay_below"}:
        return round(kr.start + rng.uniform(-0.6, 0.6) * abs(kr.target - kr.start), 2)
    moved = (kr.target - kr.start) * min(1.0, fraction * kr.pace * rng.uniform(0.85, 1.1))
    return round(kr.start + moved, 2)


def seed_okrs(*, domain: str, objectives: tuple[Obj, ...], now: datetime | None = None) -> bool:
    """Create the demo OKRs in the current schema unless it already has cycles."""
    if Cycle.objects.exists():
        return False
    now = now or timezone.now()
    rng = random.Random(domain)  # noqa: S311 - demo data, reproducible per organisation
    people = {u.email.split("@")[0]: u for u in User.objects.filter(email__endswith=f"@{domain}")}
    admin = people["ceo"]
    today = timezone.localdate(now)
    year = cycle_create(
        actor=admin, name=f"FY{today.year}", kind="annual", start_date=date(today.year, 1, 1),
        end_date=date(today.year, 12, 31),
    )  # fmt: skip
    year = cycle_activate(cycle=year, actor=admin)
    q_start, q_end = _quarter_of(today)
    quarter = cycle_create(
        actor=admin, name=f"Q{(q_start.month + 2) // 3} {today.year}", kind="quarter", start_date=q_start,
        end_date=q_end, parent=year,
    )  # fmt: skip
    quarter = cycle_activate(cycle=quarter, actor=admin)
    made: dict[str, Objective] = {}
    key_results: dict[str, KeyResult] = {}
    for spec in objectives:
        owner = people[spec.owner]
        objective = objective_create(
            actor=admin, cycle=year if spec.annual else quarter, owner=owner, title=spec.title,
            level=spec.level, kind=spec.kind, health_dimension=spec.dimension, team=owner.team,
            state="active",
        )  # fmt: skip
        made[spec.key] = objective
        for n, kr in enumerate(spec.krs):
            key_results[f"{spec.key}#{n}"] = key_result_create(
                actor=admin, objective=objective, title=kr.title, kind=kr.kind, start=kr.start,
                target=kr.target, low=kr.low, high=kr.high, unit=kr.unit, unit_label=kr.unit_label,
                currency_code=kr.currency,
            )  # fmt: skip
        if spec.initiative:
            initiative_create(
                actor=admin, key_result=key_results[f"{spec.key}#0"], title=spec.initiative, owner=owner
            )
        if spec.parent:
            target = {"parent_key_result": key_results[spec.parent]} if "#" in spec.parent else {
                "parent_objective": made[spec.parent]
            }  # fmt: skip
            # Accepted links are decided by the parent's owner; one proposal is left open.
            proposer = owner if not spec.accepted else admin
            alignment_propose(child=objective, actor=proposer, message="We move this directly.", **target)
    _record_check_ins(objectives, key_results, people, start=q_start, now=now, rng=rng)
    _seed_kpis(domain, people, key_results, now, rng)
    return True


def _elapsed(cycle: Cycle, moment: datetime) -> float:
    start = timezone.make_aware(datetime.combine(cycle.start_date, datetime.min.time()))
    end = timezone.make_aware(datetime.combine(cycle.end_date + timedelta(days=1), datetime.min.time()))
    return max(0.0, (moment - start) / (end - start))


def _record_check_ins(objectives, key_results, people, *, start: date, now, rng) -> None:
    start = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    # Weekly since the quarter began (and a few weeks back even early in a quarter).
    moment = min(start + timedelta(days=7), now - timedelta(days=42))
    while moment < now:
        for spec in objectives:
            for n, kr in enumerate(spec.krs):
                key_result = key_results[f"{spec.key}#{n}"]
                fraction = _elapsed(key_result.objective.cycle, moment)
                check_in_record(
                    key_result=key_result, actor=people[spec.owner], value=_value_at(kr, fraction, rng),
                    confidence=max(0, min(10, round(7 * kr.pace + rng.uniform(-1, 1)))),
                    what_moved="Weekly numbers from the dashboard.", recorded_at=moment, now=now,
                )  # fmt: skip
        moment += timedelta(days=7)


def _seed_kpis(domain, people, key_results, now, rng) -> None:
    for name, unit, owner, direction, green, red, level, kr_key in KPIS.get(domain, []):
        kpi = kpi_create(
            actor=people[owner], name=name, unit=unit, owner=people[owner], direction=direction,
            green_threshold=green, red_threshold=red,
        )  # fmt: skip
        kpi_link_key_result(kpi=kpi, key_result=key_results[kr_key], actor=people["ceo"])
        for week in range(12, -1, -1):
            value = round(level * rng.uniform(0.9, 1.1), 2)
            kpi_reading_record(kpi=kpi, actor=people[owner], value=value, at=now - timedelta(weeks=week))
