"""The OASIS KMIP 1.4 and 2.1 profile test cases against a real kmipd over mutual TLS.

The cases are read from ``KMIPD_KMIP_VECTORS`` or ``../shared/kmip-test-vectors``;
the module is skipped, saying so, when neither exists. Each case either passes,
or fails for the reason ``expected-failures.toml`` gives; a listed case that
starts passing fails the test too, so the list cannot go stale.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmipd.conformance.runner import CaseResult, explain, run_paths
from kmipd.conformance.transport import HTTPSTransport, TLSTransport
from kmipd.conformance.vectors import ENV_VAR, default_root, find_cases
from tests.integration.conftest import ServerHandle, running_server

ROOT = default_root()
EXPECTED_FAILURES = {
    str(k): str(v)
    for k, v in tomllib.loads((Path(__file__).parent / "expected-failures.toml").read_text()).items()
}
CASES = find_cases([ROOT]) if ROOT is not None else []

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        ROOT is None,
        reason=f"OASIS KMIP test cases not found: set {ENV_VAR} or place them in ../shared/kmip-test-vectors",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    with running_server(tmp_path_factory.mktemp("conformance")) as handle:
        yield handle


@pytest.fixture(scope="module")
def results(server: ServerHandle) -> dict[str, CaseResult]:
    files = {"ca": server.ca, "cert": server.cert("alice"), "key": server.key("alice")}
    transport = TLSTransport(server.host, server.port, timeout=30, **files)
    # The message-encoding profiles travel over HTTPS, each in its own encoding.
    https = {
        prefix: HTTPSTransport(server.host, server.https_port, encoding=encoding, timeout=30, **files)
        for prefix, encoding in (("MSGENC-HTTPS", "ttlv"), ("MSGENC-XML", "xml"), ("MSGENC-JSON", "json"))
    }
    try:
        outcome = run_paths(CASES, transport, explanations=EXPECTED_FAILURES, transports=dict(https))
    finally:
        transport.close()
        for other in https.values():
            other.close()
    return {r.name: r for r in outcome}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", [p.stem for p in CASES])
def test_case(case: str, results: dict[str, CaseResult]) -> None:
    result = results[case]
    reason = explain(case, EXPECTED_FAILURES)
    if reason:
        assert not result.passed, f"{case} passes now: remove it from expected-failures.toml"
        return
    assert result.passed, f"{case}, exchange {result.failed_at} ({result.operation}): {result.difference}"
