"""Runs schemathesis over every operation of a loaded schema and collects the outcome
(operations, cases, failures) instead of stopping at the first failure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.specs.openapi import checks as openapi_checks

CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]


@dataclass
class FuzzSummary:
    operations: int = 0
    cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def distinct_failures(self) -> list[str]:
        return sorted(set(self.failures))

    def line(self) -> str:
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (
            f"schemathesis: {self.operations} operations, {self.cases} cases, "
            f"{len(self.failures)} failures (responses {codes})"
        )


def _runner(summary: FuzzSummary, operation, mode, examples: int, path_parameters: dict | None, before_each):
    @settings(
        max_examples=examples, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case):
        summary.cases += 1
        if before_each is not None:
            before_each()
        response = case.call()
        summary.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as failure:  # every kind of check failure is recorded
            lines = [line.strip(" |") for line in str(failure).splitlines()]
            text = " / ".join(line for line in lines if line)[:400]
            entry = (
                f"{operation.method.upper()} {operation.path} [{mode.value}] → {response.status_code}: {text}"
            )
            summary.failures.append(entry)

    return run


def fuzz(
    schema,
    *,
    examples: int,
    modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    path_parameters: dict | None = None,
    before_each=None,
) -> FuzzSummary:
    """``path_parameters`` fixes path parameters by name (where an operation has them);
    ``before_each()`` runs before every case (e.g. to undo the fuzzer revoking its own token)."""
    summary = FuzzSummary()
    for result in schema.get_all_operations():
        operation = result.ok()
        summary.operations += 1
        names = {parameter.name for parameter in operation.path_parameters}
        fixed = {k: v for k, v in (path_parameters or {}).items() if k in names} or None
        for mode in modes:
            try:
                _runner(summary, operation, mode, examples, fixed, before_each)()
            except Unsatisfiable:
                # Nothing to make invalid (an operation without parameters or body).
                if mode != GenerationMode.NEGATIVE:
                    raise
    return summary
