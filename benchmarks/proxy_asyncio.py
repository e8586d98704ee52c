"""Candidates benchmarks/proxy.py compares with the product's threaded proxy; not product code.

- `asyncio`: the same proxy (secret check, header filtering, a token per request, kept-alive
  upstream connections, responses re-framed and written as they arrive) on asyncio streams, one
  event loop in a background thread.
- `tcp-relay`: no HTTP at all, bytes copied between two sockets by two threads per connection:
  the cost of one extra loopback hop in Python, the floor under any proxy written in it.

Both speak plain http to a loopback upstream only, which is all the benchmark needs.
"""

from __future__ import annotations

import asyncio
import hmac
import socket
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

_DROPPED = {
    b"connection",
    b"keep-alive",
    b"transfer-encoding",
    b"te",
    b"trailer",
    b"upgrade",
    b"host",
    b"content-length",
    b"authorization",
    b"x-api-key",
    b"x-goog-api-key",
    b"proxy-connection",
    b"expect",
}


async def _read_head(reader: asyncio.StreamReader) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    first = await reader.readline()
    if not first:
        raise EOFError
    headers = []
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        headers.append((name.strip(), value.strip()))
    return first, headers


def start_asyncio(upstream: str, token: Callable[[], str], secret: str) -> tuple[int, Callable]:
    url = urlsplit(upstream)
    up_host, up_port, base = url.hostname or "", url.port or 80, url.path.rstrip("/").encode()
    want = secret.encode()
    loop = asyncio.new_event_loop()
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def forward(
        method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> tuple[bytes, list[tuple[bytes, bytes]], asyncio.StreamReader, asyncio.StreamWriter]:
        out = [
            b"%s %s%s HTTP/1.1\r\nHost: %s:%d\r\n"
            % (method, base, target, up_host.encode(), up_port)
        ]
        out += [b"%s: %s\r\n" % (n, v) for n, v in headers if n.lower() not in _DROPPED]
        out.append(b"Authorization: Bearer %s\r\n" % token().encode())
        out.append(b"Content-Length: %d\r\n\r\n" % len(body))
        if idle:
            ur, uw = idle.pop()
        else:
            ur, uw = await asyncio.open_connection(up_host, up_port)
            uw.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        uw.write(b"".join(out) + body)
        status, rheaders = await _read_head(ur)
        return status, rheaders, ur, uw

    async def relay(
        ur: asyncio.StreamReader, writer: asyncio.StreamWriter, chunked: bool, length: int | None
    ) -> None:
        if chunked:
            while True:
                size = int((await ur.readline()).split(b";")[0], 16)
                if size == 0:
                    await ur.readline()
                    writer.write(b"0\r\n\r\n")
                    break
                left = size
                while left:
                    data = await ur.read(min(left, 65536))
                    if not data:
                        raise EOFError
                    left -= len(data)
                    writer.write(b"%x\r\n" % len(data))
                    writer.write(data)
                    writer.write(b"\r\n")
                    await writer.drain()
                await ur.readexactly(2)
        else:
            left = length or 0
            while left:
                data = await ur.read(min(left, 65536))
                if not data:
                    raise EOFError
                left -= len(data)
                writer.write(data)
                await writer.drain()
        await writer.drain()

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    first, headers = await _read_head(reader)
                except EOFError:
                    return
                method, target, _ = first.split(b" ", 2)
                lower = {n.lower(): v for n, v in headers}
                presented = lower.get(b"x-goog-api-key") or lower.get(b"x-api-key") or b""
                auth = lower.get(b"authorization", b"")
                if auth.lower().startswith(b"bearer "):
                    presented = auth[7:]
                body = await reader.readexactly(int(lower.get(b"content-length", b"0")))
                if not hmac.compare_digest(presented, want):
                    msg = b'{"error": {"code": 401, "message": "bad key"}}'
                    writer.write(
                        b"HTTP/1.1 401 Unauthorized\r\nContent-Length: %d\r\n\r\n%s"
                        % (len(msg), msg)
                    )
                    return
                status, rheaders, ur, uw = await forward(method, target, headers, body)
                rlower = {n.lower(): v for n, v in rheaders}
                chunked = b"chunked" in rlower.get(b"transfer-encoding", b"").lower()
                length = None if chunked else int(rlower.get(b"content-length", b"0"))
                head = [status]
                head += [b"%s: %s\r\n" % (n, v) for n, v in rheaders if n.lower() not in _DROPPED]
                head.append(
                    b"Transfer-Encoding: chunked\r\n\r\n"
                    if chunked
                    else b"Content-Length: %d\r\n\r\n" % length
                )
                writer.write(b"".join(head))
                await relay(ur, writer, chunked, length)
                idle.append((ur, uw))
        except (ConnectionError, EOFError):
            pass
        finally:
            writer.close()

    server = loop.run_until_complete(asyncio.start_server(client, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def stop() -> None:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()

    return port, stop


def start_tcp_relay(upstream: str) -> tuple[int, Callable]:
    url = urlsplit(upstream)
    dest = (url.hostname or "", url.port or 80)
    listener = socket.create_server(("127.0.0.1", 0))

    def pump(src: socket.socket, dst: socket.socket) -> None:
        buf = memoryview(bytearray(65536))
        try:
            while n := src.recv_into(buf):
                dst.sendall(buf[:n])
        except OSError:
            pass
        finally:
            dst.close()

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            up = socket.create_connection(dest)
            for s in (conn, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=pump, args=(conn, up), daemon=True).start()
            threading.Thread(target=pump, args=(up, conn), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1], listener.close
