"""KMIP over HTTPS against a real kmipd: ``POST /kmip`` in the TTLV, XML and JSON encodings."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from kmipd.protocol.enums import CryptographicAlgorithm, ObjectType, Operation, ResultReason, ResultStatus, Tag
from kmipd.protocol.names import spec_names
from kmipd.ttlv.codec import decode, encode
from kmipd.ttlv.item import Item, enumeration, integer, structure, text
from kmipd.ttlv.jsonenc import decode_json
from kmipd.ttlv.xml import decode_xml
from tests.integration.conftest import (
    ServerHandle,
    batch_item,
    kmip_call,
    kmip_request,
    results,
    running_server,
    tls_connect,
    tls_context,
)

pytestmark = pytest.mark.integration

LIMIT = 1 << 20  # the default max_message_size

DISCOVER_TTLV = encode(kmip_request((1, 4), batch_item(Operation.DISCOVER_VERSIONS)))

# Written out by hand (not by kmipd's encoders) so that the server is checked against the profile's forms.
DISCOVER_XML = """\
<RequestMessage>
  <RequestHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/>
      <ProtocolVersionMinor type="Integer" value="4"/>
    </ProtocolVersion>
    <BatchCount type="Integer" value="1"/>
  </RequestHeader>
  <BatchItem>
    <Operation type="Enumeration" value="DiscoverVersions"/>
    <RequestPayload/>
  </BatchItem>
</RequestMessage>
"""

DISCOVER_JSON = json.dumps(
    {
        "tag": "RequestMessage",
        "value": [
            {
                "tag": "RequestHeader",
                "value": [
                    {
                        "tag": "ProtocolVersion",
                        "value": [
                            {"tag": "ProtocolVersionMajor", "type": "Integer", "value": 1},
                            {"tag": "ProtocolVersionMinor", "type": "Integer", "value": 4},
                        ],
                    },
                    {"tag": "BatchCount", "type": "Integer", "value": 1},
                ],
            },
            {
                "tag": "BatchItem",
                "value": [
                    {"tag": "Operation", "type": "Enumeration", "value": "DiscoverVersions"},
                    {"tag": "RequestPayload", "value": []},
                ],
            },
        ],
    }
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    with running_server(tmp_path_factory.mktemp("https")) as handle:
        yield handle


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes


def connection(server: ServerHandle, identity: str | None = "alice") -> http.client.HTTPSConnection:
    return http.client.HTTPSConnection(
        server.host, server.https_port, context=tls_context(server, identity), timeout=10
    )


def post(
    server: ServerHandle, body: bytes | str, content_type: str, *, identity: str = "alice", path: str = "/kmip"
) -> Answer:
    conn = connection(server, identity)
    try:
        data = body.encode() if isinstance(body, str) else body
        conn.request("POST", path, body=data, headers={"Content-Type": content_type})
        response = conn.getresponse()
        return Answer(response.status, response.getheader("content-type") or "", response.read())
    finally:
        conn.close()


def decode_answer(answer: Answer, encoding: str) -> Item:
    if encoding == "ttlv":
        return decode(answer.body)
    text_body = answer.body.decode("utf-8")
    return decode_xml(text_body, spec_names()) if encoding == "xml" else decode_json(text_body, spec_names())


# --------------------------------------------------------------------------- the three encodings


@pytest.mark.parametrize(
    ("encoding", "content_type", "body"),
    [
        ("ttlv", "application/octet-stream", DISCOVER_TTLV),
        ("xml", "text/xml", DISCOVER_XML),
        ("xml", "application/xml", DISCOVER_XML),
        ("json", "application/json", DISCOVER_JSON),
        ("json", "application/json; charset=utf-8", DISCOVER_JSON),
    ],
    ids=["ttlv", "text-xml", "application-xml", "json", "json-charset"],
)
def test_discover_versions_in_each_encoding(server: ServerHandle, encoding: str, content_type: str, body) -> None:  # type: ignore[no-untyped-def]
    answer = post(server, body, content_type)
    assert answer.status == 200, answer
    assert answer.content_type == content_type.split(";")[0]
    tree = decode_answer(answer, encoding)
    assert tree.tag == Tag.RESPONSE_MESSAGE
    [result] = results(tree)
    assert result.operation == Operation.DISCOVER_VERSIONS
    assert result.status == ResultStatus.SUCCESS
    assert result.payload is not None
    versions = [
        (v.find(Tag.PROTOCOL_VERSION_MAJOR).value, v.find(Tag.PROTOCOL_VERSION_MINOR).value)  # type: ignore[union-attr]
        for v in result.payload.find_all(Tag.PROTOCOL_VERSION)
    ]
    assert (1, 4) in versions and (2, 1) in versions, versions


@pytest.mark.parametrize("prefix", ['<?xml version="1.0" encoding="UTF-8"?>\n', "\ufeff"], ids=["declaration", "bom"])
def test_xml_with_declaration_or_byte_order_mark(server: ServerHandle, prefix: str) -> None:
    answer = post(server, prefix + DISCOVER_XML, "text/xml")
    assert answer.status == 200, answer
    [result] = results(decode_answer(answer, "xml"))
    assert result.status == ResultStatus.SUCCESS


def test_xml_answer_is_the_profile_encoding(server: ServerHandle) -> None:
    answer = post(server, DISCOVER_XML, "text/xml")
    body = answer.body.decode()
    assert body.lstrip().startswith("<ResponseMessage>")
    assert '<Operation type="Enumeration" value="DiscoverVersions"/>' in body
    assert '<ResultStatus type="Enumeration" value="Success"/>' in body


def test_json_answer_is_the_profile_encoding(server: ServerHandle) -> None:
    answer = post(server, DISCOVER_JSON, "application/json")
    document = json.loads(answer.body)
    assert document["tag"] == "ResponseMessage"
    items = [c for c in document["value"] if c["tag"] == "BatchItem"]
    assert len(items) == 1
    fields = {c["tag"]: c.get("value") for c in items[0]["value"]}
    assert fields["Operation"] == "DiscoverVersions"
    assert fields["ResultStatus"] == "Success"


def test_several_requests_on_one_connection(server: ServerHandle) -> None:
    conn = connection(server)
    try:
        for body, kind in ((DISCOVER_TTLV, "application/octet-stream"), (DISCOVER_JSON, "application/json")) * 2:
            conn.request("POST", "/kmip", body=body, headers={"Content-Type": kind})
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            assert response.getheader("content-type") == kind
    finally:
        conn.close()


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("content_type", ["text/plain", "", "application/x-www-form-urlencoded", "json"])
def test_unsupported_content_type_is_415(server: ServerHandle, content_type: str) -> None:
    answer = post(server, DISCOVER_TTLV, content_type)
    assert answer.status == 415, answer


def test_other_path_is_404(server: ServerHandle) -> None:
    for path in ("/other", "/kmip/", "/", "/KMIP"):
        answer = post(server, DISCOVER_TTLV, "application/octet-stream", path=path)
        assert answer.status == 404, (path, answer)


def test_get_is_not_allowed(server: ServerHandle) -> None:
    conn = connection(server)
    try:
        conn.request("GET", "/kmip")
        response = conn.getresponse()
        response.read()
        assert response.status == 405
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/xml", "<RequestMessage><RequestHeader>"),
        ("text/xml", "this is not XML"),
        ("application/xml", '<RequestMessage type="Nonsense" value="1"/>'),
        ("text/xml", b"<RequestMessage>\xff\xfe</RequestMessage>"),
        ("application/json", '{"tag": "RequestMessage", "value": ['),
        ("application/json", '{"tag": "RequestMessage", "value": [], "extra": 1}'),
        ("text/xml", '<!DOCTYPE RequestMessage [<!ENTITY a "b">]>' + DISCOVER_XML),
        ("text/xml", ""),
        ("application/json", "[]"),
        ("application/json", ""),
        ("application/json", '{"tag": "RequestMessage", "value": [' * 2000 + "]}" * 2000),
    ],
    ids=["xml-truncated", "xml-text", "xml-bad-type", "xml-not-utf8", "json-truncated", "json-extra-key",
         "xml-doctype", "xml-empty", "json-array", "json-empty", "json-too-deep"],
)
def test_malformed_text_body_is_400(server: ServerHandle, content_type: str, body: str | bytes) -> None:
    answer = post(server, body, content_type)
    assert answer.status == 400, answer
    assert answer.content_type == "text/plain"


def test_malformed_ttlv_is_answered_in_kmip(server: ServerHandle) -> None:
    """Binary TTLV that does not decode is the processor's to answer: an Invalid Message failure."""
    answer = post(server, b"\x42\x00\x78\x01\x00\x00\x00\x04garbage!", "application/octet-stream")
    assert answer.status == 200
    [result] = results(decode(answer.body))
    assert result.status == ResultStatus.OPERATION_FAILED
    assert result.reason == ResultReason.INVALID_MESSAGE


def _no_answer(conn: http.client.HTTPSConnection) -> str:
    try:
        response = conn.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        return repr(exc)
    raise AssertionError(f"the server answered {response.status}: {response.read()[:200]!r}")


def test_declared_length_over_the_limit_drops_the_connection(server: ServerHandle) -> None:
    conn = connection(server)
    try:
        conn.putrequest("POST", "/kmip")
        conn.putheader("Content-Type", "application/octet-stream")
        conn.putheader("Content-Length", str(LIMIT + 1))
        conn.endheaders()
        with contextlib.suppress(OSError):  # already dropped
            conn.send(b"\x00" * 65536)
        _no_answer(conn)
    finally:
        conn.close()
    # The server is still serving new connections.
    assert post(server, DISCOVER_TTLV, "application/octet-stream").status == 200


def test_declared_length_far_over_the_limit_without_a_body(server: ServerHandle) -> None:
    conn = connection(server)
    try:
        conn.putrequest("POST", "/kmip")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(1 << 40))
        conn.endheaders()
        _no_answer(conn)
    finally:
        conn.close()
    assert post(server, DISCOVER_JSON, "application/json").status == 200


def test_body_at_the_limit_is_read(server: ServerHandle) -> None:
    # Exactly the limit is allowed: the body is read and answered (an undecodable TTLV message).
    answer = post(server, b"\x00" * LIMIT, "application/octet-stream")
    assert answer.status == 200
    [result] = results(decode(answer.body))
    assert result.status == ResultStatus.OPERATION_FAILED


def test_chunked_body_over_the_limit_drops_the_connection(server: ServerHandle) -> None:
    conn = connection(server)
    try:
        conn.putrequest("POST", "/kmip")
        conn.putheader("Content-Type", "application/octet-stream")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        chunk = b"\x00" * 65536
        try:
            for _ in range(LIMIT // len(chunk) + 2):
                conn.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            conn.send(b"0\r\n\r\n")
        except OSError:
            pass  # dropped while sending
        _no_answer(conn)
    finally:
        conn.close()
    assert post(server, DISCOVER_TTLV, "application/octet-stream").status == 200


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls1.2", "tls1.3"])
def test_no_client_certificate_fails_the_handshake(server: ServerHandle, version: ssl.TLSVersion) -> None:
    context = tls_context(server, identity=None)
    context.minimum_version = context.maximum_version = version
    raw = socket.create_connection((server.host, server.https_port), timeout=10)
    how = ""
    try:
        try:
            sock = context.wrap_socket(raw, server_hostname="localhost")
        except (ssl.SSLError, OSError) as exc:
            how = f"handshake failed: {exc!r}"
        else:
            # TLS 1.3: the client finishes its side first; the server's refusal arrives on the first read.
            with sock:
                try:
                    sock.sendall(b"POST /kmip HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                    data = sock.recv(1024)
                except (ssl.SSLError, OSError) as exc:
                    how = f"refused after handshake: {exc!r}"
                else:
                    assert data == b"", f"the server answered without a client certificate: {data[:200]!r}"
                    how = "closed"
    finally:
        raw.close()
    if version is ssl.TLSVersion.TLSv1_2:
        assert how.startswith("handshake failed"), how
    else:
        # The server's "certificate required" alert (or a reset), never an HTTP answer.
        lowered = how.lower()
        assert how.startswith("handshake failed") or "certificate required" in lowered or "reset" in lowered, how
    assert post(server, DISCOVER_TTLV, "application/octet-stream").status == 200


def test_no_client_certificate_gets_no_http_answer(server: ServerHandle) -> None:
    conn = connection(server, identity=None)
    try:
        with pytest.raises((OSError, http.client.HTTPException)):
            conn.request("POST", "/kmip", body=DISCOVER_TTLV, headers={"Content-Type": "application/octet-stream"})
            conn.getresponse()
    finally:
        conn.close()


# --------------------------------------------------------------------------- identity and ownership


def _create_over_ttlv(server: ServerHandle, identity: str) -> tuple[str, bytes]:
    """Create an AES-256 key over the TTLV port; return its identifier and (Get) material."""
    create = batch_item(
        Operation.CREATE,
        enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY),
        structure(
            Tag.ATTRIBUTES,
            enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm.AES),
            integer(Tag.CRYPTOGRAPHIC_LENGTH, 256),
            integer(Tag.CRYPTOGRAPHIC_USAGE_MASK, 0x0C),
        ),
    )
    with tls_connect(server, identity) as sock:
        [created] = results(kmip_call(sock, kmip_request((2, 1), create)))
        assert created.status == ResultStatus.SUCCESS, created
        uid = str(created.payload.find(Tag.UNIQUE_IDENTIFIER).value)  # type: ignore[union-attr]
        [got] = results(kmip_call(sock, kmip_request((2, 1), get(uid))))
    return uid, material_of(got)


def get(uid: str) -> Item:
    return batch_item(Operation.GET, text(Tag.UNIQUE_IDENTIFIER, uid))


def material_of(result) -> bytes:  # type: ignore[no-untyped-def]
    assert result.status == ResultStatus.SUCCESS, result
    block = result.payload.find(Tag.SYMMETRIC_KEY).find(Tag.KEY_BLOCK)
    return bytes(block.find(Tag.KEY_VALUE).find(Tag.KEY_MATERIAL).value)


@pytest.fixture(scope="module")
def alices_key(server: ServerHandle) -> tuple[str, bytes]:
    return _create_over_ttlv(server, "alice")


@pytest.mark.parametrize(
    ("version", "reason"),
    [((1, 4), ResultReason.ITEM_NOT_FOUND), ((2, 1), ResultReason.OBJECT_NOT_FOUND)],
    ids=["1.4", "2.1"],
)
def test_other_identity_cannot_see_the_key_over_https(
    server: ServerHandle, alices_key: tuple[str, bytes], version: tuple[int, int], reason: int
) -> None:
    uid, _material = alices_key
    answer = post(server, encode(kmip_request(version, get(uid))), "application/octet-stream", identity="bob")
    assert answer.status == 200
    [result] = results(decode(answer.body))
    assert result.status == ResultStatus.OPERATION_FAILED
    assert result.reason == reason
    assert result.payload is None or result.payload.find(Tag.SYMMETRIC_KEY) is None


def test_other_identity_cannot_see_the_key_over_https_json(server: ServerHandle, alices_key: tuple[str, bytes]) -> None:
    from kmipd.ttlv.jsonenc import encode_json

    uid, _material = alices_key
    body = encode_json(kmip_request((2, 1), get(uid)), spec_names())
    answer = post(server, body, "application/json", identity="bob")
    assert answer.status == 200
    [result] = results(decode_answer(answer, "json"))
    assert (result.status, result.reason) == (ResultStatus.OPERATION_FAILED, ResultReason.OBJECT_NOT_FOUND)


@pytest.mark.parametrize("encoding", ["ttlv", "xml", "json"])
def test_owner_gets_the_same_material_over_https(
    server: ServerHandle, alices_key: tuple[str, bytes], encoding: str
) -> None:
    from kmipd.ttlv.jsonenc import encode_json
    from kmipd.ttlv.xml import encode_xml

    uid, material = alices_key
    message = kmip_request((2, 1), get(uid))
    body: bytes | str
    if encoding == "ttlv":
        body, kind = encode(message), "application/octet-stream"
    elif encoding == "xml":
        body, kind = encode_xml(message, spec_names()), "text/xml"
    else:
        body, kind = encode_json(message, spec_names()), "application/json"
    answer = post(server, body, kind, identity="alice")
    assert answer.status == 200
    [result] = results(decode_answer(answer, encoding))
    assert material_of(result) == material
    assert len(material) == 32


def test_key_created_over_https_is_owned_by_the_https_identity(server: ServerHandle) -> None:
    create = batch_item(
        Operation.CREATE,
        enumeration(Tag.OBJECT_TYPE, ObjectType.SYMMETRIC_KEY),
        structure(
            Tag.ATTRIBUTES,
            enumeration(Tag.CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm.AES),
            integer(Tag.CRYPTOGRAPHIC_LENGTH, 128),
        ),
    )
    answer = post(server, encode(kmip_request((2, 1), create)), "application/octet-stream", identity="bob")
    [created] = results(decode(answer.body))
    assert created.status == ResultStatus.SUCCESS, created
    uid = str(created.payload.find(Tag.UNIQUE_IDENTIFIER).value)  # type: ignore[union-attr]
    with tls_connect(server, "bob") as sock:
        [mine] = results(kmip_call(sock, kmip_request((2, 1), get(uid))))
    assert len(material_of(mine)) == 16
    with tls_connect(server, "alice") as sock:
        [theirs] = results(kmip_call(sock, kmip_request((2, 1), get(uid))))
    assert (theirs.status, theirs.reason) == (ResultStatus.OPERATION_FAILED, ResultReason.OBJECT_NOT_FOUND)

