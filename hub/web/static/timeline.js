// A day's recordings of one camera on a timeline: recorded spans, gaps, offline and degraded
// bands (the camera's status history) and events; a click (or
// the arrow keys and Enter) plays from that moment, segment after segment, each fetched with the
// session cookie (every fetch is a play_back decision of the hub).
import { ready } from "/static/pages.js";

const line = document.getElementById("timeline");
const video = document.getElementById("playback");
const state = document.getElementById("state");
const camera = line.dataset.camera;
const dayStart = Date.parse(line.dataset.start);
const dayEnd = Date.parse(line.dataset.end);
const span = dayEnd - dayStart;
let segments = [];
let current = -1;

function at(fraction) {
  return dayStart + Math.max(0, Math.min(1, fraction)) * span;
}

function clock(ms) {
  // in the hub's time zone, as the server writes every time (not the phone's)
  return new Date(ms).toLocaleTimeString(document.documentElement.lang,
    { hour: "2-digit", minute: "2-digit", timeZone: document.documentElement.dataset.zone });
}

function bar(cls, from, to) {
  const part = document.createElement("div");
  part.className = cls;
  part.dataset.from = String(from);
  part.dataset.to = String(to);
  part.style.left = `${((from - dayStart) / span) * 100}%`;
  part.style.width = `${Math.max(0.15, ((to - from) / span) * 100)}%`;
  line.append(part);
}

async function load() {
  const query = new URLSearchParams({ start: line.dataset.start, end: line.dataset.end, limit: "10000" });
  const answer = await fetch(`/api/v1/cameras/${encodeURIComponent(camera)}/recordings?${query}`);
  if (!answer.ok) return;
  segments = (await answer.json()).map((s) => ({ ...s, from: Date.parse(s.start), to: Date.parse(s.end) }));
  let open = null;
  for (const s of segments) {
    if (open && s.from - open.to < 1500) open.to = s.to;
    else {
      if (open) bar("recorded", open.from, open.to);
      open = { from: s.from, to: s.to };
    }
  }
  if (open) bar("recorded", open.from, open.to);
  if (!segments.length) state.textContent = line.dataset.none;
  const history = await fetch(`/api/v1/cameras/${encodeURIComponent(camera)}/status-history?${
    new URLSearchParams({ start: line.dataset.start, end: line.dataset.end })}`);
  if (history.ok) {
    for (const band of await history.json()) {
      if (band.status === "offline" || band.status === "degraded") {
        bar(band.status, Date.parse(band.start), Math.min(Date.parse(band.end), Date.now()));
      }
    }
  }
  const events = await fetch(`/api/v1/events?camera_id=${encodeURIComponent(camera)}&limit=1000`);
  if (events.ok) {
    for (const e of await events.json()) {
      const t = Date.parse(e.at);
      if (t >= dayStart && t < dayEnd) bar("event", t, t + 1000);
    }
  }
}

function playFrom(moment) {
  const index = segments.findIndex((s) => s.to > moment);
  if (index < 0) return;
  current = index;
  const s = segments[index];
  video.hidden = false;
  video.src = s.download_url;
  video.onloadedmetadata = () => { video.currentTime = Math.max(0, (moment - s.from) / 1000); video.play(); };
  state.textContent = line.dataset.playing.replace("%(time)s", clock(Math.max(moment, s.from)));
  line.setAttribute("aria-valuenow", String(Math.round((moment - dayStart) / 1000)));
  const download = document.getElementById("export");
  if (download) {  // the hour around the moment, as one MP4 (the export route: audited)
    const from = new Date(Math.max(dayStart, moment - 1_800_000)).toISOString();
    const to = new Date(Math.min(dayEnd, moment + 1_800_000)).toISOString();
    download.href = `/api/v1/cameras/${encodeURIComponent(camera)}/export?start=${from}&end=${to}`;
    download.hidden = false;
  }
}

video.addEventListener("ended", () => {
  if (current >= 0 && current + 1 < segments.length) playFrom(segments[current + 1].from);
});

// Scrubbing: a finger (or the mouse) drawn along the line shows the time under it; lifting it
// plays from there.  A short recording is drawn wider than it lasted: a tap on its bar plays it,
// wherever on the bar it lands.
const cursor = document.createElement("div");
cursor.className = "cursor";
cursor.hidden = true;
line.append(cursor);
let scrubbing = false;

function momentOf(event) {
  const box = line.getBoundingClientRect();
  const fraction = Math.max(0, Math.min(1, (event.clientX - box.left) / box.width));
  cursor.style.left = `${fraction * 100}%`;
  let moment = at(fraction);
  const hit = document.elementFromPoint(event.clientX, event.clientY)?.closest(".recorded");
  if (hit) moment = Math.max(Number(hit.dataset.from), Math.min(moment, Number(hit.dataset.to) - 1000));
  return moment;
}

line.addEventListener("pointerdown", (event) => {
  scrubbing = true;
  line.setPointerCapture(event.pointerId);
  cursor.hidden = false;
  state.textContent = clock(momentOf(event));
});
line.addEventListener("pointermove", (event) => {
  if (scrubbing) state.textContent = clock(momentOf(event));
});
line.addEventListener("pointerup", (event) => {
  if (!scrubbing) return;
  scrubbing = false;
  playFrom(momentOf(event));
});
line.addEventListener("pointercancel", () => { scrubbing = false; cursor.hidden = true; });

line.addEventListener("keydown", (event) => {
  const now = Number(line.getAttribute("aria-valuenow")) * 1000 + dayStart;
  const step = event.shiftKey ? 3_600_000 : 60_000;
  if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
    const next = Math.max(dayStart, Math.min(dayEnd, now + (event.key === "ArrowRight" ? step : -step)));
    line.setAttribute("aria-valuenow", String(Math.round((next - dayStart) / 1000)));
    state.textContent = clock(next);
    event.preventDefault();
  } else if (event.key === "Enter" || event.key === " ") {
    playFrom(now);
    event.preventDefault();
  }
});

// A range of the day, chosen by its times, as one MP4 (the export route: audited).
const range = document.getElementById("range");
range?.addEventListener("submit", (event) => {
  event.preventDefault();
  const day = line.dataset.start.slice(0, 10);
  const zone = line.dataset.start.slice(19);  // the hub's offset, e.g. +07:00
  const from = new Date(`${day}T${range.querySelector("#from").value}:00${zone}`);
  let to = new Date(`${day}T${range.querySelector("#until").value}:00${zone}`);
  if (!(to > from)) to = new Date(from.getTime() + 60_000);
  location.href = `/api/v1/cameras/${encodeURIComponent(camera)}/export?${
    new URLSearchParams({ start: from.toISOString(), end: to.toISOString() })}`;
});

load();

ready();
