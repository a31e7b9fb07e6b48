"""What a stranger or a careless client sends gets a short 4xx, never a 500 with a traceback in the log,
and costs the hub no memory before it knows who is asking."""

from __future__ import annotations

import socket
import time

import httpx

from tests.conftest import demo_hub_yaml


def tracebacks(hub) -> list[dict]:  # noqa: ANN001
    return [r for r in hub.log_records() if "exc_info" in r or "Traceback" in str(r)]


def test_odd_values_in_urls_and_queries_are_4xx_with_nothing_in_the_log(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    with hub.client() as client:
        cam = client.get("/api/v1/cameras").json()[0]["id"]
        live = client.post(f"/api/v1/cameras/{cam}/live").json()
        base = live["playlist"].rsplit("/", 1)[0]
        answers = {
            "year 9999 west of UTC": client.get(f"/api/v1/cameras/{cam}/recordings",
                                                params={"start": "9999-12-31T23:00:00-07:00"}),
            "segment id past 64 bits": client.get(f"/api/v1/recordings/{2 ** 70}/download"),
            "a 5,000-character live file": client.get(f"{base}/{'s' * 5000}.m4s"),
            "a live file name with a newline": client.get(f"{base}/index.m3u8%0A"),
            "a non-ASCII link signature": httpx.get(hub.url + "/shared/a.jpg",
                                                    params={"expires": str(int(time.time()) + 60), "sig": "é" * 64}),
        }
    for what, answer in answers.items():
        assert 400 <= answer.status_code < 500, (what, answer.status_code, answer.text[:200])
    newline = answers["a live file name with a newline"]
    assert newline.status_code == 404 and "no live file" in newline.json()["detail"], "the name check is whole"
    assert not tracebacks(hub), tracebacks(hub)[:1]


def test_a_large_body_without_a_token_is_refused_before_it_is_read(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    with hub.client() as client:
        cam = client.get("/api/v1/cameras").json()[0]["id"]
    path = f"/api/v1/cameras/{cam}/recordings/lock"
    # Announce 300 MB and send only the headers: the answer must come without the body.
    with socket.create_connection(("127.0.0.1", hub.port), timeout=10) as s:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {300 * 1024 * 1024}\r\n\r\n".encode())
        head = s.recv(4096).decode(errors="replace")
    assert head.startswith("HTTP/1.1 401"), head[:200]
    # With a token, a body above the 64 KB cap is refused as too large, also before it is read.
    token = hub.token("admin")
    with socket.create_connection(("127.0.0.1", hub.port), timeout=10) as s:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {300 * 1024 * 1024}\r\n\r\n".encode())
        head = s.recv(4096).decode(errors="replace")
    assert head.startswith("HTTP/1.1 413"), head[:200]
    # A chunked body that grows past the cap is cut off as well.
    big = httpx.post(hub.url + path, headers={"Authorization": f"Bearer {token}"},
                     content=(b"x" * 65536 for _ in range(40)))
    assert big.status_code == 413 and big.json()["code"] == "too_large"


def test_every_answer_says_nosniff_and_json_is_not_cached(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    with hub.client() as client:
        listing = client.get("/api/v1/cameras")
        health = client.get("/healthz")
        page = client.get("/")
    for answer in (listing, health, page):
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert listing.headers["cache-control"] == "no-store"


def test_a_host_the_hub_does_not_serve_is_refused(hub_factory) -> None:  # noqa: ANN001
    """A page on another site that resolves its own name to 127.0.0.1 (DNS rebinding) reaches nothing."""
    hub = hub_factory(demo_hub_yaml())
    rebound = httpx.get(hub.url + "/healthz", headers={"Host": "evil.example:8080"})
    assert rebound.status_code == 400
    assert httpx.get(hub.url + "/healthz", headers={"Host": f"localhost:{hub.port}"}).status_code == 200


def test_wrong_secrets_are_logged_and_slowed_per_address_and_token(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml())
    good = hub.token("viewer")
    token_id = good.split("_")[1]
    wrong = f"pt_{token_id}_{'A' * 43}"
    at_work = hub.token("operator")  # someone already at work from the same address (a proxy's, say)
    assert httpx.get(hub.url + "/api/v1/cameras", headers={"Authorization": f"Bearer {at_work}"}).status_code == 200
    answers = [httpx.get(hub.url + "/api/v1/cameras", headers={"Authorization": f"Bearer {wrong}"})
               for _ in range(30)]
    assert answers[0].status_code == 401
    assert answers[-1].status_code == 429 and int(answers[-1].headers["retry-after"]) >= 1
    again = httpx.get(hub.url + "/api/v1/cameras", headers={"Authorization": f"Bearer {at_work}"})
    assert again.status_code == 200, "a stranger's guesses lock out the others at that address"
    held = httpx.get(hub.url + "/api/v1/cameras", headers={"Authorization": f"Bearer {good}"})
    assert held.status_code == 429, "the guessed token id stays held back, even with its right secret"
    failures = [r for r in hub.log_records() if r.get("message") == "authentication failed"]
    assert failures and failures[0].get("token_id") == token_id
    assert "A" * 43 not in hub.log(), "the wrong secret itself is never logged"


def test_one_account_holds_a_bounded_number_of_live_views(hub_factory) -> None:  # noqa: ANN001
    hub = hub_factory(demo_hub_yaml(extra="live: {max_views_per_principal: 3}"))
    with hub.client("viewer") as viewer, hub.client("operator") as other:
        cam = viewer.get("/api/v1/cameras").json()[0]["id"]
        joined = [viewer.post(f"/api/v1/cameras/{cam}/live") for _ in range(3)]
        refused = viewer.post(f"/api/v1/cameras/{cam}/live")
        assert all(j.status_code == 201 for j in joined)
        assert refused.status_code == 429 and refused.json()["code"] == "limit_reached"
        assert other.post(f"/api/v1/cameras/{cam}/live").status_code == 201, "another account is not held back"
        viewer.delete(f"/api/v1/live/{joined[0].json()['viewer']}")
        assert viewer.post(f"/api/v1/cameras/{cam}/live").status_code == 201, "a view left frees a place"


def test_the_data_directory_is_the_hubs_alone(hub_factory) -> None:  # noqa: ANN001
    import stat

    hub = hub_factory(demo_hub_yaml())
    assert stat.S_IMODE(hub.data_dir.stat().st_mode) == 0o700
    for name in ("pantau.db", "link-secret"):  # the token hashes and inventory; the key of shared links
        assert stat.S_IMODE((hub.data_dir / name).stat().st_mode) == 0o600, name
