"""Requests about a camera another node owns, answered by that node: one upstream session per camera.

A live view, a snapshot or the list of a camera's viewers asked of a node
that does not own the camera is passed to its owner (``Cluster.owner_address``,
from the owner's node row) and the owner's answer passed back as it comes:
the owner alone holds the camera's stream, so a second node never opens a
second session to the camera.  A live view's viewer id starts with its
node's name (``node~...``), so its playlist, segments and WebSocket, asked
of any node, reach the node that holds it.  What the database answers alike
on every node (the inventory, recordings' index, events) and what shared
object storage serves (downloads, exports) stays with the node asked.  The
stream graph (``/api/v1/streams``) is every node's: the node asked adds the
other living nodes' parts (``from_every_node``) to its own.

The node passing a request on adds ``X-Pantau-Peer: NODE KEY`` (its key of
this run, kept in its node row) and ``X-Forwarded-For``; the node it
reaches answers it itself, never passing it on (two nodes that both think
the other owns a camera answer rather than bounce it), and trusts the
client address it names.  A request with that header and no node's key is
refused (421): a caller cannot make a node that does not own a camera open
its stream.  Access is decided by the
owner, as for any request: the caller's token or session cookie goes along.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import TYPE_CHECKING, Any

import aiohttp
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from hub.cluster import Cluster

log = logging.getLogger("pantau.cluster")

#: Routes whose answer only the camera's owner has (its stream, its viewers).
CAMERA_ROUTE = re.compile(r"^/api/v1/(?:public/)?cameras/(?P<camera>[^/]+)/(?:live|snapshot|viewers)(?:/|$)")
#: A live view's own routes: the node is in the viewer id.
VIEWER_ROUTE = re.compile(r"^/api/v1/live/(?P<node>[a-z0-9][a-z0-9_.-]{0,62})~[^/]+(?:/|$)")
PEER = b"x-pantau-peer"
#: Headers of one hop, not passed on (the client library writes its own).
HOP = {b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailer",
       b"transfer-encoding", b"upgrade", b"content-length", PEER, b"x-forwarded-for",
       b"sec-websocket-key", b"sec-websocket-version", b"sec-websocket-extensions", b"sec-websocket-accept"}
#: The scope's key naming the node that passed a request here.
PASSED_BY = "pantau.passed_by"
#: How long a request answered from every node waits for each node's part.
GATHER_SECONDS = 5.0
#: A live playlist's first answer waits for the first segment; nothing the owner sends takes longer.
TIMEOUT = aiohttp.ClientTimeout(total=None, connect=3, sock_read=30)


class OwnerRouting:
    """ASGI middleware: a request about a camera another node owns goes to that node."""

    def __init__(self, app: ASGIApp, cluster: Cluster) -> None:
        self.app = app
        self.cluster = cluster

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        passed = next((v.decode("latin-1") for k, v in headers if k == PEER), None)
        if passed is not None:  # from a peer: answered here, whatever this node thinks of the owner
            peer = await self._from_peer(scope, passed)
            if peer is None:  # not a node's key: a caller must not make this node open a camera's stream
                await _problem(send, scope, 421, "Not passed by a hub node",
                               "the request carries X-Pantau-Peer without a node's key")
                return
            await self.app(peer, receive, send)
            return
        target = self._target(scope["path"])
        if target is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(target, scope, receive, send)
        else:
            await self._websocket(target, scope, receive, send)

    def _target(self, path: str) -> str | None:
        if (found := VIEWER_ROUTE.match(path)) is not None:
            return self.cluster.node_address(found["node"])
        if (found := CAMERA_ROUTE.match(path)) is not None:
            return self.cluster.owner_address(found["camera"])
        return None

    async def _from_peer(self, scope: Scope, passed: str) -> Scope | None:
        """The scope of a request another node passed here (its caller's address), or None when the key
        is not that node's (read the nodes again first: the node may have restarted with a new key)."""
        node, _, key = passed.partition(" ")
        if not self.cluster.is_peer(node, key):
            await self.cluster.reload_peers()
            if not self.cluster.is_peer(node, key):
                return None
        headers = [(k, v) for k, v in scope["headers"] if k != PEER]
        scope = {**scope, "headers": headers, PASSED_BY: node}
        client = next((v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"), None)
        if client:
            scope["client"] = (client.split(",")[0].strip(), 0)
        return scope

    def _session_now(self) -> aiohttp.ClientSession:
        return session(self.cluster)

    def _passed_headers(self, scope: Scope) -> list[tuple[str, str]]:
        return passed_headers(self.cluster, scope)

    @staticmethod
    def _url(target: str, scope: Scope, websocket: bool = False) -> str:
        base = target.rstrip("/")
        if websocket:
            base = "ws" + base[4:] if base.startswith("http") else base
        path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string") or b""
        return base + path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")

    async def _http(self, target: str, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        started = False
        try:
            async with self._session_now().request(
                    scope["method"], self._url(target, scope), data=bytes(body),
                    headers=self._passed_headers(scope), allow_redirects=False) as answer:
                await send({"type": "http.response.start", "status": answer.status,
                            "headers": [(k, v) for k, v in answer.raw_headers
                                        if k.lower() not in HOP or k.lower() == b"content-length"]})
                started = True
                async for chunk in answer.content.iter_chunked(1 << 16):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
        except (aiohttp.ClientError, TimeoutError) as err:
            log.warning("the camera's node did not answer", extra={"node": self.cluster.node,
                                                                    "error": type(err).__name__})
            if not started:
                await _unavailable(send)

    async def _websocket(self, target: str, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        try:
            upstream = await self._session_now().ws_connect(
                self._url(target, scope, websocket=True), headers=self._passed_headers(scope), autoclose=False,
                protocols=tuple(scope.get("subprotocols") or ()))
        except aiohttp.WSServerHandshakeError:
            await send({"type": "websocket.close", "code": 1008})  # the owner refused it: so does this node
            return
        except (aiohttp.ClientError, TimeoutError):
            await send({"type": "websocket.close", "code": 1013})  # try again later
            return
        await send({"type": "websocket.accept", **({"subprotocol": upstream.protocol} if upstream.protocol else {})})

        async def up() -> None:
            while True:
                message: Message = await receive()
                if message["type"] == "websocket.disconnect":
                    await upstream.close()
                    return
                if message.get("text") is not None:
                    await upstream.send_str(message["text"])
                elif message.get("bytes") is not None:
                    await upstream.send_bytes(message["bytes"])

        async def down() -> None:
            async for message in upstream:
                if message.type == aiohttp.WSMsgType.TEXT:
                    await send({"type": "websocket.send", "text": message.data})
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await send({"type": "websocket.send", "bytes": message.data})
                else:
                    break
            with contextlib.suppress(Exception):  # the client may be gone already
                await send({"type": "websocket.close", "code": upstream.close_code or 1000})

        tasks = [asyncio.create_task(up()), asyncio.create_task(down())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await upstream.close()


def session(cluster: Cluster) -> aiohttp.ClientSession:
    """The node's client for requests to other nodes (bytes passed on as they come: not decompressed)."""
    return cluster.client(lambda: aiohttp.ClientSession(timeout=TIMEOUT, auto_decompress=False))  # type: ignore[no-any-return]


def passed_headers(cluster: Cluster, scope: Scope) -> list[tuple[str, str]]:
    """The headers of a request this node passes on: the caller's own (its token or cookie: the node
    asked decides), this node's peer key and the caller's address."""
    client = scope.get("client")
    out = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k.lower() not in HOP]
    out.append(("X-Pantau-Peer", f"{cluster.node} {cluster.peer_key}"))
    if client:
        out.append(("X-Forwarded-For", str(client[0])))
    return out


def passed_by(scope: Scope) -> str | None:
    """The node that passed this request here (None: a caller's own request)."""
    node = scope.get(PASSED_BY)
    return str(node) if node is not None else None


async def from_every_node(cluster: Cluster, scope: Scope, path: str) -> tuple[dict[str, Any], list[str]]:
    """Every other living node's answer to ``GET path`` for this request's caller, asked at once (each
    answers its own part: the request is a peer's), and the nodes that did not answer, or not with 200,
    within ``GATHER_SECONDS``.  The nodes are those of the last lease's read (a third of a lease old)."""
    targets = {n: a for n in sorted(cluster.peers) if (a := cluster.node_address(n)) is not None}
    client = session(cluster)
    headers = [(k, v) for k, v in passed_headers(cluster, scope) if k.lower() != "accept-encoding"]
    headers.append(("Accept-Encoding", "identity"))  # the session passes bytes on as they come: read them plain

    async def ask(address: str) -> Any:
        async with asyncio.timeout(GATHER_SECONDS), client.get(address.rstrip("/") + path, headers=headers) as answer:
            answer.raise_for_status()
            return await answer.json()

    answers = await asyncio.gather(*(ask(a) for a in targets.values()), return_exceptions=True)
    got, silent = {}, []
    for node, answer in zip(targets, answers, strict=True):
        if isinstance(answer, BaseException):
            log.warning("a node did not answer its part", extra={"node": cluster.node, "peer": node, "path": path,
                                                                 "error": type(answer).__name__})
            silent.append(node)
        else:
            got[node] = answer
    return got, silent


async def _unavailable(send: Send) -> None:
    await _problem(send, {"type": "http"}, 503, "The camera's node is not answering",
                   "another node owns this camera and did not answer; it is moved to a node that answers "
                   "within a lease", [(b"retry-after", b"3")])


async def _problem(send: Send, scope: Scope, status: int, title: str, detail: str,
                   extra: list[tuple[bytes, bytes]] | None = None) -> None:
    """An RFC 9457 problem answer (a WebSocket is closed instead, with a policy violation)."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})
