"""The exchange's HTTP side (documents.exchange): another installation sends an edXML
message, lists what waits for it here, gets one, confirms it received it, and reads the
statuses of a document it sent. Every request is signed by the peer (HMAC-SHA256 of method,
path, time and body under the secret the two share); the body of a message is the edXML."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from tinhso.core.api import ErrorOut
from tinhso.documents import exchange

router = Router(tags=["edXML exchange"])


class ReceivedOut(Schema):
    kind: str
    repeat: bool
    document_id: str


class PendingOut(Schema):
    ids: list[str]


class TraceOut(Schema):
    organ_id: str
    code: str
    label: str
    at: str


def _peer(request: HttpRequest) -> exchange.Peer:
    headers = {
        k: request.headers.get(k, "")
        for k in ("X-Edxml-Peer", "X-Edxml-Time", "X-Edxml-Nonce", "X-Edxml-Signature")
    }
    return exchange.request_check(
        request.method or "GET", request.get_full_path(), headers, request.body
    )


@router.post(
    "/messages",
    response={
        200: ReceivedOut,
        202: ReceivedOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: ErrorOut,
    },
    summary="Send an edXML message (QCVN 102:2016) to this installation",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def message_send(request: HttpRequest) -> Status[exchange.Received]:
    """202 when taken in; 200 for a repeat (nothing changes). Refusals: 400 malformed XML or
    a DTD/entity, 401 not signed by a peer, 403 a sender that is not the peer's, 404 no
    recipient here or a status about a document never sent, 413 too large, 422 the schema,
    an attachment or a broken signature."""
    peer = _peer(request)
    received = exchange.receive(request.body, peer=peer)
    return Status(200 if received.repeat else 202, received)


@router.get(
    "/pending",
    response={200: PendingOut, 401: ErrorOut},
    summary="Messages waiting here for the caller",
)
def pending(request: HttpRequest) -> dict[str, list[str]]:
    return {"ids": exchange.mailbox_pending(_peer(request))}


@router.get(
    "/messages/{message_id}",
    response={200: None, 401: ErrorOut, 404: ErrorOut},
    summary="One message waiting for the caller (edXML)",
)
def message_get(request: HttpRequest, message_id: str) -> HttpResponse:
    content = exchange.mailbox_get(_peer(request), message_id)
    return HttpResponse(content, content_type="application/xml; charset=utf-8")


@router.post(
    "/messages/{message_id}/received",
    response={204: None, 401: ErrorOut, 404: ErrorOut},
    summary="Confirm a message was received (it leaves the pending list)",
)
def message_received(request: HttpRequest, message_id: str) -> Status[None]:
    exchange.mailbox_confirm(_peer(request), message_id)
    return Status(204, None)


@router.get(
    "/traces",
    response={200: list[TraceOut], 401: ErrorOut, 422: ErrorOut},
    summary="The statuses sent back about a document the caller sent",
)
def traces(request: HttpRequest, document_id: str) -> list[dict[str, str]]:
    return exchange.traces_for(_peer(request), document_id)
