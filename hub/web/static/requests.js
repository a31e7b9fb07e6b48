// Camera requests: the requests on a map (a dot per request, coloured by its state), a spot chosen
// by a tap (or typed) to ask for a camera there, and the operators' answers, each sent with the
// session's CSRF token.  What the API says no to is shown in the page's language, by its code.
import { csrf, problemText, ready } from "/static/pages.js";

const COLOURS = { submitted: "#1f5fbf", planned: "#c77700", declined: "#555555", installed: "#1e7b34" };
const items = [...document.querySelectorAll("#requests .request")];
const ask = document.getElementById("ask");
const lat = document.getElementById("lat");
const lon = document.getElementById("lon");

async function send(url, body, problem) {
  const answer = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify(body),
  });
  if (answer.ok) {
    location.reload();
    return;
  }
  problem.textContent = await problemText(answer, problem.dataset.failed);
  problem.hidden = false;
}

const mapElement = document.getElementById("map");
if (mapElement && window.L) {
  const map = window.L.map(mapElement, { scrollWheelZoom: false });
  window.L.tileLayer(mapElement.dataset.tiles, { attribution: mapElement.dataset.attribution, maxZoom: 19 })
    .addTo(map);
  const placed = [];
  for (const item of items) {
    const at = [Number(item.dataset.lat), Number(item.dataset.lon)];
    window.L.circleMarker(at, { radius: 9, color: "#000", weight: 1, fillOpacity: 0.9,
      fillColor: COLOURS[item.dataset.state] })
      .bindTooltip(item.querySelector("h3").textContent.trim())
      .on("click", () => item.scrollIntoView({ behavior: "smooth" }))
      .addTo(map);
    placed.push(at);
  }
  const known = placed.length ? placed : JSON.parse(mapElement.dataset.known || "[]");
  if (known.length) map.fitBounds(known, { maxZoom: 17, padding: [20, 20] });
  else map.setView([-2.5, 118], 4);  // Indonesia
  if (ask) {
    let chosen = null;
    const choose = (at) => {
      chosen ??= window.L.marker(at).addTo(map);
      chosen.setLatLng(at);
    };
    map.on("click", (event) => {
      lat.value = event.latlng.lat.toFixed(6);
      lon.value = event.latlng.lng.toFixed(6);
      choose(event.latlng);
    });
    for (const input of [lat, lon]) {
      input.addEventListener("change", () => {
        if (lat.value && lon.value) choose([Number(lat.value), Number(lon.value)]);
      });
    }
  }
}

ask?.addEventListener("submit", (event) => {
  event.preventDefault();
  send("/api/v1/camera-requests", {
    area: document.getElementById("area-choice").value,
    latitude: Number(lat.value),
    longitude: Number(lon.value),
    reason: document.getElementById("reason").value,
  }, document.getElementById("ask-problem"));
});

for (const form of document.querySelectorAll("form.answer")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(`/api/v1/camera-requests/${encodeURIComponent(form.dataset.id)}/answer`, {
      state: form.querySelector(".new-state").value,
      note: form.querySelector(".note").value || null,
      camera_id: form.querySelector(".camera-choice").value || null,
    }, form.querySelector(".problem"));
  });
}

ready();
