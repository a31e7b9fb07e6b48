"""The plain page at ``/``: every camera with a live-refreshing snapshot.

The page holds no data itself: its script asks for a token once (kept in the
browser's localStorage), then uses the same API as everyone else.  The full
web UI is a later piece of work.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; background: #f6f7f9; color: #1d2330; }}
h1 {{ font-size: 1.4rem; }} #cams {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1rem; }}
figure {{ margin: 0; background: #fff; border-radius: 6px; padding: .5rem; box-shadow: 0 1px 3px #0002; }}
img {{ width: 100%; aspect-ratio: 16/9; background: #222; object-fit: contain; }}
figcaption {{ font-size: .9rem; }} .meta {{ color: #667; font-size: .8rem; }} #login[hidden] {{ display: none; }}
</style></head>
<body><h1>{title}</h1>
<form id="login" hidden><label>API token <input id="token" type="password" size="60" autocomplete="off"></label>
<button>Show cameras</button> <span id="err"></span></form>
<div id="cams"></div>
<script>
const $ = (s) => document.querySelector(s);
let token = localStorage.getItem("pantau-token");
async function api(path, asBlob) {{
  const r = await fetch(path, {{ headers: {{ Authorization: "Bearer " + token }} }});
  if (r.status === 401) {{ localStorage.removeItem("pantau-token"); $("#login").hidden = false; throw new Error("token refused"); }}
  if (!r.ok) throw new Error(path + ": " + r.status);
  return asBlob ? r.blob() : r.json();
}}
async function refresh(img, id) {{
  try {{ const b = await api("/api/v1/cameras/" + encodeURIComponent(id) + "/snapshot", true);
         const old = img.src; img.src = URL.createObjectURL(b); if (old) URL.revokeObjectURL(old); }} catch (e) {{}}
}}
async function show() {{
  const cams = await api("/api/v1/cameras");
  const box = $("#cams"); box.textContent = "";
  for (const c of cams) {{
    const fig = document.createElement("figure"); const img = document.createElement("img");
    img.alt = c.name; img.dataset.camera = c.id;
    const cap = document.createElement("figcaption"); cap.textContent = c.name;
    const meta = document.createElement("div"); meta.className = "meta";
    meta.textContent = c.id + " · " + c.status + (c.tags.length ? " · " + c.tags.join(", ") : "");
    cap.appendChild(meta); fig.append(img, cap); box.appendChild(fig);
    refresh(img, c.id); setInterval(() => refresh(img, c.id), 5000);
  }}
}}
$("#login").addEventListener("submit", (e) => {{ e.preventDefault(); token = $("#token").value.trim();
  localStorage.setItem("pantau-token", token); $("#login").hidden = true; show().catch((x) => $("#err").textContent = x.message); }});
if (token) show().catch((x) => {{ $("#err").textContent = x.message; }}); else $("#login").hidden = false;
</script></body></html>
"""


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> str:
    return _PAGE.format(title=escape(request.app.state.hub.config.hub.name))
