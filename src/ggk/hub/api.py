"""The hub API's JSON endpoints: identity, parties, hub key, messages, mailbox, receipts,
monitoring, health and metrics. Transfers (tus up, Range down) live in `transfers`."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from ggk.hub.bodies import json_body, openapi_body
from ggk.hub.context import authenticate_first, caller, current_party, hub
from ggk.hub.interfaces import HubError, Message, Party, StoreUnwritable
from ggk.hub.messages import AttachmentDeclaration, MessageDeclaration
from ggk.hub.routing import MONITORING_ROLES
from ggk.hub.schemas import (
    API,
    TYPE_PATTERN,
    AcknowledgeIn,
    Health,
    HubKeyOut,
    Mailbox,
    Me,
    MessageIn,
    MessageList,
    MessageOut,
    PartyMonitoring,
    PartyOut,
    Problem,
    SignedReceipt,
)
from ggk.privacy import mask_bsn_like, mask_bsn_like_in

PROBLEMS = {status: {"model": Problem, "content": {"application/problem+json": {}}}
            for status in (400, 403, 404, 409, 413, 422, 507)}
router = APIRouter(responses={403: PROBLEMS[403]})


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """Serialise a response model once (FastAPI would validate it again); the declared
    response_model still documents it in OpenAPI."""
    return Response(model.model_dump_json(), status_code=status_code,
                    media_type="application/json")


def require_monitoring(party: Party) -> None:
    if party.role not in MONITORING_ROLES:
        raise HubError(403, "role-not-allowed", f"a {party.role} may not read monitoring")


@router.get("/healthz", response_model=Health, tags=["operations"])
def healthz(request: Request) -> Health:
    """Liveness, database reachability and a writable store (any valid client certificate)."""
    context = hub(request)
    context.authenticator.valid_certificate(request)
    try:
        with context.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as e:
        raise HubError(503, "database-unavailable", f"database unreachable: {e}") from e
    if context.authenticator.crl_problem is not None:
        raise HubError(503, "crl-stale", context.authenticator.crl_problem)
    try:
        context.store.check_writable()
    except StoreUnwritable as e:
        raise HubError(503, "store-unwritable", str(e)) from e
    return Health(status="ok", database="ok", store="ok")


@router.get("/metrics", tags=["operations"], response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    """Prometheus metrics (roles operator and cbs)."""
    party = current_party(request)
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    require_monitoring(party)
    return Response(generate_latest(hub(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get(f"{API}/me", response_model=Me, tags=["parties"])
def me(request: Request) -> Me:
    """Who the hub thinks you are (from your certificate)."""
    party = current_party(request)
    return Me(oin=party.oin, name=party.name, role=party.role, gemeentecode=party.gemeentecode)


@router.get(f"{API}/parties", response_model=list[PartyOut], tags=["parties"])
def list_parties(request: Request) -> list[PartyOut]:
    """All parties (so a client can find the CBS OIN or a gemeente's OIN by gemeentecode)."""
    current_party(request)
    return [PartyOut(**p.public()) for p in hub(request).registry.list()]


@router.get(f"{API}/hub-key", response_model=HubKeyOut, tags=["receipts"])
def hub_key(request: Request) -> HubKeyOut:
    """The public key that verifies the hub's receipts."""
    current_party(request)
    return HubKeyOut(**hub(request).key.describe())


@router.get(f"{API}/hub-keys", tags=["receipts"])
def hub_keys(request: Request) -> dict[str, Any]:
    """The JWKS of the keys that verify receipts: the signing key and, during a rotation, the
    earlier ones (a receipt's JWS header names its key by `kid`)."""
    current_party(request)
    return hub(request).receipt_keys.jwks()


@router.post(f"{API}/messages", response_model=MessageOut, status_code=201, tags=["messages"],
             responses={200: {"model": MessageOut, "description": "Same id, same content"},
                        **{s: PROBLEMS[s] for s in (400, 409, 413, 422, 507)}},
             openapi_extra=openapi_body(MessageIn))
async def send_message(request: Request) -> Response:
    """Create a message; attachments are uploaded afterwards by tus to their `upload_url`.

    Numbers that could be a BSN in the metadata's text, the conversation id and attachment names
    are masked before anything is stored (`ggk.privacy`); the answer shows what was stored.
    If another party already used the id, the message gets an id of its own (in the answer)."""
    context = hub(request)
    who = caller(request)
    body = await json_body(request, MessageIn, context.settings.max_json_body_bytes,
                           lambda: authenticate_first(request, who))
    if body.sender is not None:
        def sender(conn: sa.Connection) -> Party:
            party = who(conn)
            if body.sender != party.oin:
                raise HubError(403, "sender-mismatch", f"sender {body.sender} is not the OIN of "
                               f"your certificate ({party.oin})")
            return party
    declaration = MessageDeclaration(
        id=str(body.id), receiver=body.receiver, type=body.type,
        conversation_id=(mask_bsn_like(body.conversation_id)
                         if body.conversation_id is not None else None),
        in_reply_to=str(body.in_reply_to) if body.in_reply_to else None,
        metadata=mask_bsn_like_in(body.metadata),  # type: ignore[arg-type]
        attachments=tuple(AttachmentDeclaration(mask_bsn_like(a.name), a.content_type, a.size,
                                                a.sha256.lower())
                          for a in body.attachments),
    )
    message, created = await context.database(lambda: context.service.create(
        who if body.sender is None else sender, declaration))
    return json_response(MessageOut.of(message), 201 if created else 200)


@router.get(f"{API}/messages", response_model=Mailbox, tags=["messages"])
async def mailbox(
    request: Request,
    box: Literal["inbox", "outbox"] = "inbox",
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    wait: Annotated[float, Query(ge=0, le=30)] = 0,
    type: Annotated[str | None, Query(max_length=200, pattern=TYPE_PATTERN)] = None,
) -> Response:
    """Your inbox (available, not yet acknowledged) or outbox (all states) after a cursor.

    With `wait`, a long poll: answers as soon as a message arrives, or empty after `wait` seconds.
    """
    context = hub(request)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    who = caller(request)  # authenticated in the first query's connection, then remembered
    # wake-ups are per party: the OIN of the certificate (checked against the party table by
    # the first query) names the long poll before it looks, so no wake-up falls in between
    oin = context.authenticator.certificate(request).oin or ""

    def look() -> tuple[list[Message], int | None]:
        return context.service.mailbox(who, box, after, limit, type)

    mailbox_key = (box, type)
    while True:
        token = context.notifier.token(oin)
        # a mailbox known empty (NOTIFY, listening) needs no query, only a known party
        viewing = context.notified_across_processes
        known = viewing and wait > 0 and context.notifier.known_empty(oin, mailbox_key, after)
        if known and who.party is None:
            who.party = context.authenticator.cached_party(request)
        if known and who.party is not None:
            found, cursor = [], after
        else:
            found, cursor = await context.database(look)
            if viewing and not found:
                context.notifier.remember_empty(token, oin, mailbox_key, after)
        remaining = deadline - loop.time()
        if found or remaining <= 0 or await request.is_disconnected():
            return json_response(Mailbox(messages=[MessageOut.of(m) for m in found],
                                         cursor=cursor))
        interval = context.poll_interval
        if not await context.notifier.wait(token, min(interval, remaining)) \
                and interval >= remaining and context.notified_across_processes:
            # the wait ran out unwoken while every process's changes wake us (NOTIFY): nothing
            # arrived, no second look
            return json_response(Mailbox(messages=[], cursor=cursor))


@router.get(f"{API}/messages/{{message_id}}", response_model=MessageOut, tags=["messages"],
            responses={404: PROBLEMS[404]})
async def get_message(message_id: str, request: Request) -> Response:
    """One message (its sender or receiver only)."""
    context, who = hub(request), caller(request)
    message = await context.database(lambda: context.service.get_for(who, message_id))
    return json_response(MessageOut.of(message))


@router.post(f"{API}/messages/{{message_id}}/ack", response_model=MessageOut, tags=["messages"],
             responses={404: PROBLEMS[404], 409: PROBLEMS[409]})
async def acknowledge(message_id: str, request: Request) -> Response:
    """Acknowledge a received message (receiver only; idempotent)."""
    context, who = hub(request), caller(request)
    message = await context.database(lambda: context.service.acknowledge(who, message_id))
    return json_response(MessageOut.of(message))


@router.post(f"{API}/messages/ack", response_model=MessageList, tags=["messages"],
             responses={s: PROBLEMS[s] for s in (400, 404, 409, 413, 422)},
             openapi_extra=openapi_body(AcknowledgeIn))
async def acknowledge_many(request: Request) -> Response:
    """Acknowledge several received messages at once (receiver only; idempotent), all or none:
    if one of them cannot be acknowledged, none is, and the answer is that message's problem.
    Each message gets its own state change, audit entry and receipt event, as with one ack."""
    context, who = hub(request), caller(request)
    body = await json_body(request, AcknowledgeIn, context.settings.max_json_body_bytes,
                           lambda: authenticate_first(request, who))
    ids = [str(i) for i in body.ids]
    messages = await context.database(lambda: context.service.acknowledge_many(who, ids))
    return json_response(MessageList(messages=[MessageOut.of(m) for m in messages]))


@router.get(f"{API}/messages/{{message_id}}/receipt", response_model=SignedReceipt,
            tags=["receipts"], responses={404: PROBLEMS[404]})
def receipt(message_id: str, request: Request) -> SignedReceipt:
    """The hub-signed history of a message (sender or receiver)."""
    party = current_party(request)
    context = hub(request)
    return SignedReceipt(**context.service.receipt(party, message_id, context.key))


@router.get(f"{API}/monitoring/parties", response_model=list[PartyMonitoring],
            tags=["operations"])
def monitoring(request: Request) -> list[PartyMonitoring]:
    """Per party: unacknowledged messages, the oldest one's age, bytes in and out."""
    party = current_party(request)
    require_monitoring(party)
    return [PartyMonitoring(**p) for p in hub(request).service.monitoring()]
