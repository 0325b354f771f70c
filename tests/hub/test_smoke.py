"""The hub answers over mutual TLS: who am I, health, problem documents."""

from __future__ import annotations

from tests.hub.conftest import RunningHub


def test_me_and_healthz_over_mutual_tls(shared_hub: RunningHub) -> None:
    client = shared_hub.client("gemeente_a")
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json() == {"oin": shared_hub.oin["gemeente_a"], "name": "Gemeente Amsterdam",
                         "role": "gemeente", "gemeentecode": "GM0363"}
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "store": "ok"}


def test_fastapi_errors_are_problem_documents(shared_hub: RunningHub) -> None:
    client = shared_hub.client("cbs")
    for method, path, status in [("GET", "/nope", 404), ("DELETE", "/api/v1/me", 405),
                                 ("POST", "/api/v1/messages", 422)]:
        response = client.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == status
