"""The conformance runner around the matching: files, names, runs, reports and ``kmipd conformance run``.

The test cases are synthetic (see ``test_matching``), written to ``tmp_path``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmipd.cli.main import main
from kmipd.clock import SystemClock, SystemEntropy
from kmipd.conformance.runner import CaseResult, explain, markdown, run_case, run_paths, summary
from kmipd.conformance.vectors import ENV_VAR, default_root, find_cases, load_case
from kmipd.operations.context import AccessPolicy
from kmipd.operations.processor import Processor
from kmipd.store.sql import SQLStore
from tests.conformance.test_matching import (
    AES_256_TEMPLATE,
    lifecycle_messages,
    not_found_messages,
    request,
    response,
    symmetric_key,
    uid,
    write_case,
)
from tests.integration.conftest import ServerHandle, running_server

# --------------------------------------------------------------------------- names and files


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("CS-BC-M-GCM-1-14", ("CS-BC-GCM", True, "1.4")),
        ("SKLC-O-1-21", ("SKLC", False, "2.1")),
        ("MSGENC-JSON-M-1-21", ("MSGENC-JSON", True, "2.1")),
        ("SUITEB_128-M-1-14", ("SUITEB_128", True, "1.4")),
        ("CS-AC-M-OAEP-10-14", ("CS-AC-OAEP", True, "1.4")),
        ("TL-M-3-14", ("TL", True, "1.4")),
        ("CS-RNG-O-4-21", ("CS-RNG", False, "2.1")),
    ],
)
def test_classify(stem: str, expected: tuple[str, bool, str]) -> None:
    from kmipd.conformance.vectors import classify

    assert classify(stem) == expected


def test_load_case_pairs_requests_with_responses(tmp_path: Path) -> None:
    path = write_case(tmp_path, "SKLC-O-1-21", "<!-- a comment -->", *lifecycle_messages())
    case = load_case(path)
    assert (case.name, case.profile, case.mandatory, case.version) == ("SKLC-O-1-21", "SKLC", False, "2.1")
    assert case.path == path
    assert len(case.exchanges) == 4
    assert all(e.request.tag == "RequestMessage" and e.response.tag == "ResponseMessage" for e in case.exchanges)


@pytest.mark.parametrize(
    "messages",
    [
        lambda m: m[:-1],  # a request without its response
        lambda m: [m[1], m[0], *m[2:]],  # a response first
        lambda m: [m[0], m[2], *m[1:]],  # two requests in a row
    ],
    ids=["unanswered", "response-first", "two-requests"],
)
def test_load_case_refuses_unpaired_messages(tmp_path: Path, messages) -> None:  # type: ignore[no-untyped-def]
    path = write_case(tmp_path, "SYN-M-1-14", *messages(lifecycle_messages()))
    with pytest.raises(ValueError, match=r"SYN-M-1-14\.xml: message \d+ is not a request followed by its response"):
        load_case(path)


def test_find_cases_walks_directories_and_sorts_naturally(tmp_path: Path) -> None:
    (tmp_path / "v1.4" / "mandatory").mkdir(parents=True)
    (tmp_path / "v1.4" / "optional").mkdir()
    for name in ("CS-BC-M-10-14", "CS-BC-M-2-14", "CS-BC-M-1-14"):
        write_case(tmp_path / "v1.4" / "mandatory", name, *not_found_messages())
    write_case(tmp_path / "v1.4" / "optional", "SKLC-O-1-14", *not_found_messages())
    (tmp_path / "v1.4" / "README.txt").write_text("not a case")
    single = write_case(tmp_path, "TL-M-1-14", *not_found_messages())
    found = find_cases([tmp_path / "v1.4", single, single, tmp_path / "README.md"])
    # Sorted by the whole path, numbers as numbers: tmp_path/TL-M-1-14.xml comes before tmp_path/v1.4/...
    assert [p.stem for p in found] == ["TL-M-1-14", "CS-BC-M-1-14", "CS-BC-M-2-14", "CS-BC-M-10-14", "SKLC-O-1-14"]


def test_default_root_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert default_root() == tmp_path
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing"))
    assert default_root() is None


# --------------------------------------------------------------------------- explain


EXPLANATIONS = {
    "CS-BC-M-GCM-2-14": "exact reason",
    "CS-BC-M-GCM-*": "GCM pattern",
    "CS-*": "any CS",
    "SKLC-?-1-21": "one character",
}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("CS-BC-M-GCM-2-14", "exact reason"),
        ("CS-BC-M-GCM-1-14", "GCM pattern"),  # the first matching pattern wins
        ("CS-AC-M-1-14", "any CS"),
        ("SKLC-O-1-21", "one character"),
        ("SKLC-OO-1-21", ""),
        ("cs-bc-m-gcm-1-14", ""),  # case-sensitive
        ("TL-M-1-14", ""),
        ("XCS-BC-M-1-14", ""),  # patterns match the whole name
    ],
)
def test_explain(name: str, reason: str) -> None:
    assert explain(name, EXPLANATIONS) == reason


def test_explain_exact_name_beats_an_earlier_pattern() -> None:
    assert explain("CS-BC-M-1-14", {"CS-*": "pattern", "CS-BC-M-1-14": "exact"}) == "exact"


def test_explain_without_explanations() -> None:
    assert explain("CS-BC-M-1-14", {}) == ""


# --------------------------------------------------------------------------- run_paths against an in-process server


@pytest.fixture
def live(store: SQLStore) -> Processor:
    """A processor on the wall clock: run_paths compares $NOW with time.time()."""
    return Processor(store, SystemClock(), SystemEntropy(), AccessPolicy(admins=frozenset(), groups={}))


def _wrong_reason_messages() -> list[str]:
    return [
        request("Get", uid("no-such-object")),
        response("Get", None, status="OperationFailed", reason="PermissionDenied"),
    ]


def test_run_paths_reports_each_case(tmp_path: Path, live: Processor) -> None:
    good = write_case(tmp_path, "SYN-M-1-14", *lifecycle_messages())
    bad = write_case(tmp_path, "SYN-M-2-14", *_wrong_reason_messages())
    explained = write_case(tmp_path, "SYN-O-1-14", *_wrong_reason_messages())
    empty = tmp_path / "SYN-M-3-14.xml"
    empty.write_text("<KMIP/>", encoding="utf-8")
    missing = tmp_path / "SYN-M-5-14.xml"
    unpaired = write_case(tmp_path, "SYN-M-4-14", lifecycle_messages()[0])
    results = run_paths(
        [good, bad, explained, empty, unpaired, missing],
        lambda raw: live.process(raw, "alice"),
        explanations={"SYN-O-*": "documented", "SYN-M-1-14": "not used: the case passes"},
    )
    by_name = {r.name: r for r in results}
    names = ["SYN-M-1-14", "SYN-M-2-14", "SYN-O-1-14", "SYN-M-3-14", "SYN-M-4-14", "SYN-M-5-14"]
    assert [r.name for r in results] == names
    assert by_name["SYN-M-1-14"].passed and by_name["SYN-M-1-14"].explanation == ""
    assert not by_name["SYN-M-2-14"].passed and by_name["SYN-M-2-14"].explanation == ""
    assert by_name["SYN-M-2-14"].difference == (
        "/Response Message/Batch Item/Result Reason: expected PermissionDenied, got ItemNotFound"
    )
    assert by_name["SYN-M-2-14"].operation == "Get"
    assert not by_name["SYN-O-1-14"].passed and by_name["SYN-O-1-14"].explanation == "documented"
    # A file without exchanges is not a test case: reported, never a vacuous pass.
    for name in ("SYN-M-3-14", "SYN-M-4-14", "SYN-M-5-14"):
        assert not by_name[name].passed
        assert by_name[name].difference.startswith("unreadable test case: ")
        assert by_name[name].exchanges == 0
    assert summary(results) == {("1.4", "SYN"): (1, 3), ("?", "?"): (0, 3)}


def test_run_paths_reports_malformed_xml_as_a_failure(tmp_path: Path, live: Processor) -> None:
    broken = tmp_path / "SYN-M-3-14.xml"
    broken.write_text("<KMIP><RequestMessage>", encoding="utf-8")
    good = write_case(tmp_path, "SYN-M-4-14", *not_found_messages())
    results = run_paths([broken, good], lambda raw: live.process(raw, "alice"))
    assert [(r.name, r.passed) for r in results] == [("SYN-M-3-14", False), ("SYN-M-4-14", True)]
    assert results[0].difference.startswith("unreadable test case: ")


def test_run_paths_routes_cases_by_prefix(tmp_path: Path, live: Processor) -> None:
    calls: dict[str, int] = {"default": 0, "xml": 0}

    def counting(kind: str):  # type: ignore[no-untyped-def]
        def transport(raw: bytes) -> bytes:
            calls[kind] += 1
            return live.process(raw, "alice")

        return transport

    paths = [
        write_case(tmp_path, "MSGENC-XML-M-1-14", *not_found_messages()),
        write_case(tmp_path, "SYN-M-1-14", *lifecycle_messages()),
    ]
    results = run_paths(paths, counting("default"), transports={"MSGENC-XML": counting("xml")})
    assert all(r.passed for r in results), results
    assert calls == {"default": 4, "xml": 1}


def _shared_key_cases(tmp_path: Path) -> tuple[Path, Path]:
    """Case 1 creates a named key; case 2 finds it by name and Gets it (its material is random)."""
    template = AES_256_TEMPLATE.replace(
        "</TemplateAttribute>",
        '<Attribute><AttributeName type="TextString" value="Name"/><AttributeValue>'
        '<NameValue type="TextString" value="synthetic-shared-key"/>'
        '<NameType type="Enumeration" value="UninterpretedTextString"/></AttributeValue></Attribute>'
        "</TemplateAttribute>",
    )
    first = write_case(
        tmp_path,
        "SYN-M-1-14",
        request("Create", '<ObjectType type="Enumeration" value="SymmetricKey"/>' + template),
        response("Create", '<ObjectType type="Enumeration" value="SymmetricKey"/>' + uid()),
    )
    name = (
        '<Attribute><AttributeName type="TextString" value="Name"/><AttributeValue>'
        '<NameValue type="TextString" value="synthetic-shared-key"/>'
        '<NameType type="Enumeration" value="UninterpretedTextString"/></AttributeValue></Attribute>'
    )
    second = write_case(
        tmp_path,
        "SYN-M-2-14",
        request("Locate", name),
        response("Locate", uid()),
        request("Get", uid()),
        response("Get", '<ObjectType type="Enumeration" value="SymmetricKey"/>' + uid() + symmetric_key("00" * 32)),
    )
    return first, second


def test_generated_objects_are_remembered_across_the_cases_of_a_run(tmp_path: Path, live: Processor) -> None:
    first, second = _shared_key_cases(tmp_path)
    results = run_paths([first, second], lambda raw: live.process(raw, "alice"))
    assert [r.passed for r in results] == [True, True], results


def test_a_case_run_alone_does_not_know_another_case_generated_the_key(tmp_path: Path, live: Processor) -> None:
    first, second = _shared_key_cases(tmp_path)
    transport = lambda raw: live.process(raw, "alice")  # noqa: E731
    assert run_case(load_case(first), transport).passed
    alone = run_case(load_case(second), transport)
    assert not alone.passed and alone.failed_at == 2
    assert "Key Material: expected 32 bytes" in alone.difference


# --------------------------------------------------------------------------- markdown


def _results() -> list[CaseResult]:
    return [
        CaseResult("SYN-M-1-14", "SYN", "1.4", True, True, 4),
        CaseResult("SYN-M-2-14", "SYN", "1.4", True, False, 2, 2, "/A|B: expected 1, got 2", "Get"),
        CaseResult("SYN-O-1-14", "SYN", "1.4", False, False, 3, 1, "line one\nline two", "Create", "documented"),
        CaseResult("CS-BC-M-1-21", "CS-BC", "2.1", True, True, 7),
        CaseResult("BROKEN", "?", "?", False, False, 0, 0, "unreadable test case: boom"),
    ]


def _cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]


def test_markdown_has_one_row_per_case() -> None:
    text = markdown(_results(), command="kmipd conformance run X", server="kmipd test")
    lines = text.splitlines()
    start = lines.index("## Cases")
    rows = [line for line in lines[start + 4 :] if line]
    assert lines[start + 2 : start + 4] == [
        "| case | result | first difference | reason |",
        "| --- | --- | --- | --- |",
    ]
    assert [_cells(r)[0] for r in rows] == ["SYN-M-1-14", "SYN-M-2-14", "SYN-O-1-14", "CS-BC-M-1-21", "BROKEN"]
    assert all(len(_cells(r)) == 4 for r in rows), rows
    cells = {(c := _cells(r))[0]: c for r in rows}
    assert cells["SYN-M-1-14"][1:] == ["pass (4 exchanges)", "", ""]
    assert cells["SYN-M-2-14"][1:] == [
        "**fail**",
        "exchange 2 (Get): /A\\|B: expected 1, got 2",
        "no reason documented",
    ]
    assert cells["SYN-O-1-14"][1:] == ["**fail**", "exchange 1 (Create): line one line two", "documented"]
    assert cells["BROKEN"][1:] == ["**fail**", "unreadable test case: boom", "no reason documented"]
    assert "Generated by `kmipd conformance run X` against kmipd test." in text
    assert text.endswith("\n")


def test_markdown_summary_counts() -> None:
    text = markdown(_results(), command="c", server="s")
    lines = text.splitlines()
    header = lines.index("| version | profile | passed | failed, reason given | failed, no reason | total |")
    end = lines.index("", header)
    rows = [_cells(line) for line in lines[header + 2 : end]]
    assert rows == [
        ["1.4", "SYN", "1", "1", "1", "3"],
        ["2.1", "CS-BC", "1", "0", "0", "1"],
        ["?", "?", "0", "0", "1", "1"],
    ]
    assert "**2 of 5 test cases pass; 2 fail without a documented reason.**" in text


def test_markdown_of_no_results() -> None:
    text = markdown([], command="c", server="s")
    assert "**0 of 0 test cases pass; 0 fail without a documented reason.**" in text


def test_markdown_escapes_the_explanation() -> None:
    result = CaseResult("SYN-M-1-14", "SYN", "1.4", True, False, 1, 1, "x", "Get", "needs A | B\nsee issue 7")
    lines = markdown([result], command="c", server="s").splitlines()
    row = next(line for line in lines if line.startswith("| SYN-M-1-14 |"))
    assert row.endswith(" |") and len(re.findall(r"(?<!\\)\|", row)) == 5, row


# --------------------------------------------------------------------------- kmipd conformance run


def _cli(*extra: str, server: str = "127.0.0.1:1", files: tuple[Path, Path, Path] | None = None) -> list[str]:
    ca, cert, key = files or (Path("ca.pem"), Path("client.pem"), Path("client.key"))
    return ["conformance", "run", "--server", server, "--ca", str(ca), "--cert", str(cert), "--key", str(key), *extra]


def test_cli_without_paths_and_no_vectors_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "does-not-exist"))
    assert main(_cli()) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == f"kmipd: no test cases given and none found (set {ENV_VAR} or pass paths)"


def test_cli_with_paths_holding_no_cases_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("nothing here")
    assert main(_cli(str(tmp_path))) == 2
    assert capsys.readouterr().err.strip() == "kmipd: no *.xml test cases under the given paths"


def test_cli_bad_server_address_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = write_case(tmp_path, "SYN-M-1-14", *not_found_messages())
    assert main(_cli(str(case), server="no-port")) == 2
    assert "--server" in capsys.readouterr().err


def test_cli_missing_certificate_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = write_case(tmp_path, "SYN-M-1-14", *not_found_messages())
    files = (tmp_path / "ca.pem", tmp_path / "client.pem", tmp_path / "client.key")
    assert main(_cli(str(case), files=files)) == 2
    err = capsys.readouterr().err
    assert err.startswith("kmipd: configuration error:") and "ca.pem" in err and "file not found" in err


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    with running_server(tmp_path_factory.mktemp("conformance-cli")) as handle:
        yield handle


def _files(server: ServerHandle) -> tuple[Path, Path, Path]:
    return server.ca, server.cert("alice"), server.key("alice")


@pytest.mark.integration
def test_cli_passing_case_exits_0(
    server: ServerHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = write_case(tmp_path, "SYN-M-1-14", *lifecycle_messages())
    report = tmp_path / "report.md"
    argv = _cli("--markdown", str(report), str(case), server=f"{server.host}:{server.port}", files=_files(server))
    assert main(argv) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "1 passed, 0 failed" in out
    assert "FAIL" not in out
    text = report.read_text()
    assert "| SYN-M-1-14 | pass (4 exchanges) | | |" in text
    assert "| 1.4 | SYN | 1 | 0 | 0 | 1 |" in text


@pytest.mark.integration
def test_cli_failing_case_exits_1(server: ServerHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_case(tmp_path, "SYN-M-1-14", *lifecycle_messages())
    bad = write_case(tmp_path, "SYN-M-2-14", *_wrong_reason_messages())
    report = tmp_path / "report.md"
    argv = _cli("--markdown", str(report), str(tmp_path), server=f"{server.host}:{server.port}", files=_files(server))
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "1 passed, 1 failed" in out
    assert (
        "FAIL SYN-M-2-14 (exchange 1): /Response Message/Batch Item/Result Reason: "
        "expected PermissionDenied, got ItemNotFound"
    ) in out
    text = report.read_text()
    assert "| SYN-M-1-14 | pass (4 exchanges) | | |" in text
    assert (
        "| SYN-M-2-14 | **fail** | exchange 1 (Get): /Response Message/Batch Item/Result Reason: "
        "expected PermissionDenied, got ItemNotFound | no reason documented |"
    ) in text
    assert good.exists() and bad.exists()


@pytest.mark.integration
def test_cli_failing_case_with_a_documented_reason_exits_0(
    server: ServerHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    write_case(cases, "SYN-M-2-14", *_wrong_reason_messages())
    explanations = tmp_path / "expected.toml"
    explanations.write_text('"SYN-M-*" = "the case expects the wrong reason on purpose"\n')
    report = tmp_path / "report.md"
    argv = _cli(
        "--explanations", str(explanations), "--markdown", str(report), str(cases),
        server=f"{server.host}:{server.port}", files=_files(server),
    )
    assert main(argv) == 0
    assert "0 passed, 1 failed" in capsys.readouterr().out
    assert "| the case expects the wrong reason on purpose |" in report.read_text()


@pytest.mark.integration
def test_cli_runs_message_encoding_cases_over_https(
    server: ServerHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for prefix in ("MSGENC-HTTPS", "MSGENC-XML", "MSGENC-JSON"):
        write_case(tmp_path, f"{prefix}-M-1-14", *lifecycle_messages())
    argv = _cli(
        "--https", f"{server.host}:{server.https_port}", str(tmp_path),
        server=f"{server.host}:{server.port}", files=_files(server),
    )
    assert main(argv) == 0, capsys.readouterr()
    assert "3 passed, 0 failed" in capsys.readouterr().out


@pytest.mark.integration
def test_cli_unreachable_server_reports_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 server: ServerHandle) -> None:
    case = write_case(tmp_path, "SYN-M-1-14", *not_found_messages())
    from tests.integration.conftest import free_port

    argv = _cli(str(case), server=f"127.0.0.1:{free_port()}", files=_files(server))
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "FAIL SYN-M-1-14 (exchange 1): cannot connect to 127.0.0.1:" in out

