"""``kmipd``: serve, or make development certificates.

``kmipd serve --dev`` is the zero-configuration start: it creates a
development CA, server and client certificates and a SQLite database in a data
directory on first start, prints the client settings, and listens on
127.0.0.1. ``kmipd serve --config FILE`` runs from a TOML file (see
``config/kmipd.toml``). Configuration problems are one-line messages.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from kmipd import __version__
from kmipd.config import ConfigError, Settings, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kmipd", description="KMIP key server over mutual TLS")
    parser.add_argument("--version", action="version", version=f"kmipd {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    source = serve.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", type=Path, help="TOML configuration file")
    source.add_argument("--dev", action="store_true", help="development mode: generated certificates, SQLite")
    serve.add_argument("--port", type=int, help="port to listen on (overrides the config; 0 picks a free one)")
    serve.add_argument("--workers", type=int, help="worker processes (0: one per core; overrides the config)")
    serve.add_argument("--reuse-ports", help=argparse.SUPPRESS)
    serve.add_argument("--supervisor", type=int, help=argparse.SUPPRESS)
    serve.add_argument(
        "--data-dir", type=Path, default=Path("kmipd-dev"), help="development data directory (default: ./kmipd-dev)"
    )

    certs = commands.add_parser("dev-certs", help="create development certificates")
    certs.add_argument("--data-dir", type=Path, default=Path("kmipd-dev"))
    certs.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="NAME",
        help="also issue a client certificate for identity NAME (repeatable)",
    )

    check = commands.add_parser("check-config", help="validate a configuration file")
    check.add_argument("config", type=Path)

    conformance = commands.add_parser("conformance", help="run the OASIS KMIP test cases against a server")
    conformance_commands = conformance.add_subparsers(dest="conformance_command", required=True)
    run = conformance_commands.add_parser("run", help="replay test cases and compare the responses")
    run.add_argument("--server", required=True, metavar="HOST:PORT")
    run.add_argument("--ca", type=Path, required=True, help="CA bundle that signs the server certificate")
    run.add_argument("--cert", type=Path, required=True, help="client certificate")
    run.add_argument("--key", type=Path, required=True, help="client private key")
    run.add_argument(
        "--https",
        metavar="HOST:PORT",
        help="the server's KMIP-over-HTTPS endpoint: the MSGENC cases then run over it "
        "in their own encodings (TTLV, XML, JSON)",
    )
    run.add_argument("--markdown", type=Path, help="also write the report as Markdown to this file")
    run.add_argument("--explanations", type=Path, help="TOML table: case name = reason it is not expected to pass")
    run.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="test-case files or directories (default: the vectors found via KMIPD_KMIP_VECTORS)",
    )
    return parser


def _dev_settings(data_dir: Path) -> Settings:
    from kmipd.cli.devcerts import ensure_dev_pki

    ca, server, _client = ensure_dev_pki(data_dir)
    return Settings(
        certificate=server.certificate.resolve(),
        private_key=server.private_key.resolve(),
        ca=ca.certificate.resolve(),
        store_url=f"sqlite:///{(data_dir / 'kmipd.db').resolve()}",
        https_port=5697,
    )


def _print_client_settings(data_dir: Path, port: int) -> None:
    d = data_dir.resolve()
    print(
        "kmipd development server\n"
        f"  data directory : {d}\n"
        f"  listening on   : 127.0.0.1:{port} (KMIP over mutual TLS)\n"
        "  client settings:\n"
        f"    host={'127.0.0.1'} port={port}\n"
        f"    ca={d / 'ca.pem'}\n"
        f"    cert={d / 'client.pem'}\n"
        f"    key={d / 'client.key'}\n"
        f"  more client identities: kmipd dev-certs --data-dir {d} --client NAME",
        flush=True,
    )


def _serve(args: argparse.Namespace) -> int:
    settings = _dev_settings(args.data_dir) if args.dev else load_settings(args.config)
    if args.port is not None:
        if not 0 <= args.port <= 65535:
            raise ConfigError("--port", "must be from 0 to 65535")
        settings = replace(settings, port=args.port)
        if args.dev:
            settings = replace(settings, https_port=args.port + 1 if args.port else 0)
    if args.workers is not None:
        if not 0 <= args.workers <= 64:
            raise ConfigError("--workers", "must be from 0 (one per core) to 64")
        settings = replace(settings, workers=args.workers)
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s",
        stream=sys.stderr,
    )
    if args.reuse_ports:
        return _run_worker(settings, args.reuse_ports, supervisor=args.supervisor)

    from kmipd.server.app import tls_files
    from kmipd.server.supervisor import Supervisor, bind_listeners, default_workers, prepare_store
    from kmipd.server.tls import ServerContextFactory

    workers = settings.workers or default_workers()
    if workers == 1:
        return _run_worker(settings, None, announce=args)
    try:
        ServerContextFactory(tls_files(settings))  # fail early on bad TLS material
        sockets = bind_listeners(settings, listen=False)  # reserves the ports; the workers listen
        prepare_store(settings)
    except Exception as exc:
        print(f"kmipd: cannot start: {_describe(exc)}", file=sys.stderr)
        return 1
    _announce(args, settings, [s.getsockname()[1] for s in sockets], workers)
    worker_argv = ["serve", "--workers", "1"]
    worker_argv += ["--dev", "--data-dir", str(args.data_dir)] if args.dev else ["--config", str(args.config)]
    return Supervisor(worker_argv, sockets, workers).run()


def _announce(args: argparse.Namespace, settings: Settings, ports: list[int], workers: int) -> None:
    if args.dev:
        _print_client_settings(args.data_dir, ports[0])
    print(f"kmipd {__version__} listening on {settings.host}:{ports[0]} ({workers} worker processes)", flush=True)
    if len(ports) > 1:
        print(f"kmipd {__version__} serving KMIP over HTTPS on https://{settings.host}:{ports[1]}/kmip", flush=True)


def _run_worker(
    settings: Settings,
    reuse_ports: str | None,
    announce: argparse.Namespace | None = None,
    supervisor: int | None = None,
) -> int:
    """One reactor: on the supervisor's ports (shared with SO_REUSEPORT), or on ports it opens itself."""
    from twisted.internet import reactor as installed_reactor

    from kmipd.server.app import start
    from kmipd.server.supervisor import bind_listeners

    reactor: Any = installed_reactor
    try:
        sockets = None
        if reuse_ports:
            numbers = [int(p) for p in reuse_ports.split(",")]
            settings = replace(settings, port=numbers[0], https_port=numbers[1] if len(numbers) > 1 else None)
            sockets = bind_listeners(settings)
        ports = start(reactor, settings, sockets)
    except Exception as exc:
        print(f"kmipd: cannot start: {_describe(exc)}", file=sys.stderr)
        return 1
    if announce is not None:
        _announce(announce, settings, [p.getHost().port for p in ports], 1)
    if supervisor is not None:
        _stop_with_supervisor(reactor, supervisor)
    reactor.run()
    return 0


def _describe(exc: Exception) -> str:
    """A start-up failure in one line (SQLAlchemy errors carry the driver's message in ``orig``)."""
    original = getattr(exc, "orig", None)
    return str(original if original is not None else exc).splitlines()[0]


def _stop_with_supervisor(reactor: Any, parent: int) -> None:
    """A worker stops (gracefully) when its supervisor is gone, even if the supervisor was SIGKILLed.

    The supervisor's pid comes on the command line: reading the parent at start-up would
    miss a supervisor that died while the worker was still starting.
    """
    import os

    from twisted.internet.task import LoopingCall

    def check() -> None:
        if os.getppid() != parent:
            logging.getLogger("kmipd").warning("supervisor %d is gone; stopping", parent)
            watch.stop()
            reactor.stop()

    watch = LoopingCall(check)
    reactor.callWhenRunning(watch.start, 0.5, now=True)


def _dev_certs(args: argparse.Namespace) -> int:
    from kmipd.cli.devcerts import Issued, ensure_dev_pki, issue

    ca, _server, _client = ensure_dev_pki(args.data_dir)
    for name in args.client:
        issued: Issued = issue(ca, args.data_dir, name, server=False)
        print(f"client '{name}': {issued.certificate} {issued.private_key}")
    print(f"development certificates in {args.data_dir.resolve()}")
    return 0


def _conformance(args: argparse.Namespace) -> int:
    import tomllib

    from kmipd.conformance.runner import markdown, run_paths, summary
    from kmipd.conformance.transport import HTTPSTransport, TLSTransport
    from kmipd.conformance.vectors import ENV_VAR, default_root, find_cases

    host, _, port_text = args.server.rpartition(":")
    if not host or not port_text.isdigit():
        raise ConfigError("--server", "must be HOST:PORT")
    roots = args.paths or ([default_root()] if default_root() else [])
    if not roots:
        print(f"kmipd: no test cases given and none found (set {ENV_VAR} or pass paths)", file=sys.stderr)
        return 2
    paths = find_cases([Path(p) for p in roots if p is not None])
    if not paths:
        print("kmipd: no *.xml test cases under the given paths", file=sys.stderr)
        return 2
    explanations: dict[str, str] = {}
    if args.explanations:
        try:
            explanations = {str(k): str(v) for k, v in tomllib.loads(args.explanations.read_text()).items()}
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(str(args.explanations), f"cannot read: {exc}") from None
    for required in (args.ca, args.cert, args.key):
        if not required.is_file():
            raise ConfigError(str(required), "file not found")
    transport = TLSTransport(host, int(port_text), ca=args.ca, cert=args.cert, key=args.key)
    others: dict[str, Any] = {}
    if args.https:
        https_host, _, https_port = args.https.rpartition(":")
        if not https_host or not https_port.isdigit():
            raise ConfigError("--https", "must be HOST:PORT")
        for prefix, encoding in (("MSGENC-HTTPS", "ttlv"), ("MSGENC-XML", "xml"), ("MSGENC-JSON", "json")):
            others[prefix] = HTTPSTransport(
                https_host, int(https_port), ca=args.ca, cert=args.cert, key=args.key, encoding=encoding
            )
    try:
        results = run_paths(paths, transport, explanations=explanations, transports=others)
    finally:
        transport.close()
        for other in others.values():
            other.close()
    for (version, profile), (passed, total) in sorted(summary(results).items()):
        print(f"{version:>4} {profile:<28} {passed:>3}/{total}")
    for result in results:
        if not result.passed:
            print(f"FAIL {result.name} (exchange {result.failed_at}): {result.difference}")
    passed = sum(r.passed for r in results)
    print(f"{passed} passed, {len(results) - passed} failed")
    if args.markdown:
        command = "kmipd conformance run --server HOST:PORT --ca CA --cert CERT --key KEY"
        if args.https:
            command += " --https HOST:PORT"
        if args.explanations:
            command += f" --explanations {args.explanations}"
        command += " " + " ".join(str(p) for p in (args.paths or ["(vectors)"]))
        args.markdown.write_text(markdown(results, command=command, server=f"kmipd {__version__}"))
    # Success means: every case passes, or fails for a reason the explanations file gives.
    return 0 if all(r.passed or r.explanation for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``kmipd`` command."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "dev-certs":
            return _dev_certs(args)
        if args.command == "conformance":
            return _conformance(args)
        load_settings(args.config)
        print(f"{args.config}: ok")
        return 0
    except ConfigError as exc:
        print(f"kmipd: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
