"""schemathesis against the running hub's OpenAPI document: no operation answers 5xx, neither
to single generated requests nor in stateful sequences (issue 10).

Every operation of `/api/v1/openapi.json` gets a bounded number of generated requests, both
schema-conforming (positive) and non-conforming (negative), sent over mutual TLS with the CBS
certificate (the widest rights: it may send to gemeenten and read monitoring). Each answer must
pass schemathesis' `not_a_server_error` check. Runs on SQLite and PostgreSQL (`running_hub`).
"""

from __future__ import annotations

import uuid

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


STATEFUL_SCENARIOS = 25
STATEFUL_STEPS = 12


def test_stateful_sequences_never_answer_a_server_error(running_hub: RunningHub) -> None:
    """Sequences of calls (send, then read, acknowledge, download, upload what was sent...)
    that schemathesis links by the ids one answer gives and the next request takes (links it
    infers from the OpenAPI document). Every answer: no 5xx."""
    document = running_hub.client("cbs").get("/api/v1/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    schema.config.update(base_url=running_hub.base_url)
    steps: list[str] = []
    found: set[str] = set()  # operations that answered 2xx to an id an earlier answer gave

    class HubStateMachine(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case) -> None:
            _short_long_poll(case)
            if case.operation.label == "POST /api/v1/messages" and isinstance(case.body, dict):
                # a receiver that exists and no foreign sender, so that sequences go on; a
                # fresh id, so that a replayed step gets the same answer (201) from the live
                # hub, else Hypothesis sees the steps it may take change between runs
                case.body["receiver"] = running_hub.oin["gemeente_a"]
                case.body.pop("sender", None)
                case.body["id"] = str(uuid.uuid4())

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            steps.append(case.operation.label)
            return {"verify": str(running_hub.ca), "cert": str(running_hub.pem["cbs"]),
                    "timeout": 30}

        def after_call(self, response: schemathesis.Response, case: schemathesis.Case
                       ) -> None:
            if "{message_id}" in case.operation.path and response.status_code < 300:
                found.add(case.operation.label)

        def validate_response(self, response: object, case: schemathesis.Case,
                              additional_checks: object = None, **kwargs: object) -> None:
            case.validate_response(response, checks=[not_a_server_error],  # type: ignore[arg-type]
                                   transport_kwargs=kwargs)

    # generate only: shrinking replays steps against a hub whose state has moved on
    HubStateMachine.run(settings=settings(
        max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS, deadline=None,
        database=None, derandomize=True, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck)))
    assert len(steps) >= STATEFUL_SCENARIOS
    assert len(set(steps)) >= 5, f"too few operations reached: {sorted(set(steps))}"
    assert "GET /api/v1/messages/{message_id}" in found, "no sequence reached a message it sent"
