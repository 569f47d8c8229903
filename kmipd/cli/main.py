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
    return parser


def _dev_settings(data_dir: Path) -> Settings:
    from kmipd.cli.devcerts import ensure_dev_pki

    ca, server, _client = ensure_dev_pki(data_dir)
    return Settings(
        certificate=server.certificate.resolve(),
        private_key=server.private_key.resolve(),
        ca=ca.certificate.resolve(),
        store_url=f"sqlite:///{(data_dir / 'kmipd.db').resolve()}",
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
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    from twisted.internet import reactor as installed_reactor

    reactor: Any = installed_reactor

    from kmipd.server.app import start

    try:
        port = start(reactor, settings)
    except OSError as exc:
        print(f"kmipd: cannot start: {exc}", file=sys.stderr)
        return 1
    actual = port.getHost().port
    if args.dev:
        _print_client_settings(args.data_dir, actual)
    print(f"kmipd {__version__} listening on {settings.host}:{actual}", flush=True)
    reactor.run()
    return 0


def _dev_certs(args: argparse.Namespace) -> int:
    from kmipd.cli.devcerts import Issued, ensure_dev_pki, issue

    ca, _server, _client = ensure_dev_pki(args.data_dir)
    for name in args.client:
        issued: Issued = issue(ca, args.data_dir, name, server=False)
        print(f"client '{name}': {issued.certificate} {issued.private_key}")
    print(f"development certificates in {args.data_dir.resolve()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``kmipd`` command."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "dev-certs":
            return _dev_certs(args)
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
