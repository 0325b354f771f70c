"""schemathesis against the running hub's OpenAPI document: no operation answers 5xx.

Every operation of `/api/v1/openapi.json` gets a bounded number of generated requests, both
schema-conforming (positive) and non-conforming (negative), sent over mutual TLS with the CBS
certificate (the widest rights: it may send to gemeenten and read monitoring). Each answer must
pass schemathesis' `not_a_server_error` check. Runs on SQLite and PostgreSQL (`running_hub`).
"""

from __future__ import annotations

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from tests.hub.conftest import RunningHub

EXAMPLES_PER_OPERATION_AND_MODE = 12


def _short_long_poll(case: schemathesis.Case) -> schemathesis.Case:
    """Cap a generated long-poll `wait` at 1 s: a valid wait only delays, up to 30 s per call."""
    wait = (case.query or {}).get("wait")
    if isinstance(wait, int | float) and not isinstance(wait, bool) and wait > 1:
        case.query["wait"] = 1
    return case


def _exercise(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    hub: RunningHub,
    session: requests.Session,
    failures: list[str],
) -> int:
    """Send generated requests for one operation; collect check failures; return the count."""
    calls = 0

    @settings(
        max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode).map(_short_long_poll))
    def exercise(case: schemathesis.Case) -> None:
        nonlocal calls
        calls += 1
        try:
            case.call_and_validate(
                base_url=hub.base_url,
                session=session,
                checks=[not_a_server_error],
                timeout=30,
                verify=str(hub.ca),  # per call: schemathesis would otherwise pass verify=True
                cert=str(hub.pem["cbs"]),
            )
        except Exception as error:  # noqa: BLE001 - collected, reported together below
            failures.append(f"{operation.label} ({mode}): {error}"[:2000])

    try:
        exercise()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        # nothing in this operation can be made non-conforming (e.g. no parameters, no body)
    return calls


def test_no_operation_answers_a_server_error(running_hub: RunningHub) -> None:
    document = running_hub.client("cbs").get("/api/v1/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "the OpenAPI document lists too few operations"

    failures: list[str] = []
    calls = 0
    with requests.Session() as session:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                calls += _exercise(operation, mode, running_hub, session, failures)
    assert calls >= len(operations)
    assert failures == [], f"{len(failures)} failures, the first ones:\n\n" + "\n\n".join(
        failures[:8]
    )
