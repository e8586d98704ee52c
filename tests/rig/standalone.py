"""The fake workspace on its own, until Ctrl-C: `python3 -m tests.rig.workspace [--port N]
[--tls] [--token-lifetime S] [--reply TEXT] [--bin DIR]` (docs/try-it.md; scripts/demo)."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import time
from pathlib import Path

from tests.rig.workspace import FakeWorkspace


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tests.rig.workspace",
        description="Serve a fake Databricks workspace on 127.0.0.1 until Ctrl-C.",
    )
    ap.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    ap.add_argument("--tls", action="store_true", help="HTTPS with a throw-away CA")
    ap.add_argument(
        "--token-lifetime", type=float, default=3600, help="access token lifetime, seconds"
    )
    ap.add_argument("--reply", default="pong", help="text of every model answer")
    ap.add_argument(
        "--bin",
        metavar="DIR",
        help="also write the fake `databricks` CLI and the test browser `rig-browser` into DIR",
    )
    args = ap.parse_args(argv)
    if args.tls:
        try:
            import trustme  # noqa: F401  (the throw-away CA)
        except ImportError:
            print(
                "--tls needs the trustme package: python3 -m pip install trustme"
                " (or use .venv/bin/python after ./scripts/test)",
                file=sys.stderr,
            )
            return 1
    ws = FakeWorkspace(tls=args.tls, access_token_lifetime=args.token_lifetime)
    ws.reply_text = args.reply
    try:
        # The server binds with SO_REUSEADDR (_Server.allow_reuse_address): the port of a run
        # stopped a moment ago is free again although its closed connections linger.
        ws.start(port=args.port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(
            f"port {args.port} is in use: pick another with --port, or leave it out",
            file=sys.stderr,
        )
        return 1
    print(f"Fake Databricks workspace: {ws.url}", flush=True)
    if ws.ca_file:
        print(f"CA certificate: {ws.ca_file}", flush=True)
        print(f"  export SSL_CERT_FILE={ws.ca_file} NODE_EXTRA_CA_CERTS={ws.ca_file}", flush=True)
    if args.bin:
        from tests.rig.sandbox import install_browser, install_fake_databricks

        os.makedirs(args.bin, exist_ok=True)
        cli = install_fake_databricks(Path(args.bin))
        browser = install_browser(Path(args.bin))
        print(f"Fake databricks CLI: {cli}", flush=True)
        print(f"  export PATH={args.bin}:$PATH BROWSER={browser}", flush=True)
    print("Ctrl-C to stop.", flush=True)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        ws.stop()
    return 0
