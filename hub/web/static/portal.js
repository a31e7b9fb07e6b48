// The public portal: a map of the public cameras (Leaflet, clustered markers), a filter by area,
// and the list the server rendered; a tap plays the camera's public HLS.
import { play, ready } from "/static/pages.js";

const items = [...document.querySelectorAll("#cameras .camera")];

function watch(item) {
  const video = item.querySelector("video");
  if (!video.hidden) return;
  play(video, item.dataset.live);
  item.querySelector("img").hidden = true;
  item.querySelector("button.play").hidden = true;
}

for (const item of items) {
  item.querySelector("button.play").addEventListener("click", () => watch(item));
}

const mapElement = document.getElementById("map");
if (mapElement && window.L) {
  const map = window.L.map(mapElement, { scrollWheelZoom: false });
  window.L.tileLayer(mapElement.dataset.tiles, { attribution: mapElement.dataset.attribution, maxZoom: 19 })
    .addTo(map);
  const cluster = window.L.markerClusterGroup ? window.L.markerClusterGroup() : window.L.layerGroup();
  const placed = [];
  for (const item of items) {
    if (!item.dataset.lat) continue;  // without a location: in the list only
    const at = [Number(item.dataset.lat), Number(item.dataset.lon)];
    const marker = window.L.marker(at, { title: item.querySelector("h3").textContent, keyboard: true });
    marker.on("click", () => { item.scrollIntoView({ behavior: "smooth" }); watch(item); });
    marker.item = item;
    cluster.addLayer(marker);
    placed.push(at);
  }
  map.addLayer(cluster);
  if (placed.length) map.fitBounds(placed, { maxZoom: 16, padding: [20, 20] });
  else map.setView([-2.5, 118], 4);  // Indonesia
}

document.getElementById("area")?.addEventListener("change", (event) => {
  const area = event.target.value;
  for (const item of items) {
    const inside = !area || item.dataset.area === area || item.dataset.area.startsWith(area + "/");
    item.hidden = !inside;
  }
});

// A tile goes grey when its camera's latest picture is older than a minute.
setInterval(async () => {
  const answer = await fetch("/api/v1/public/cameras");
  if (!answer.ok) return;
  const now = Date.now();
  for (const camera of await answer.json()) {
    const item = items.find((i) => i.dataset.camera === camera.id);
    if (!item) continue;
    const at = camera.picture_at ? Date.parse(camera.picture_at) : 0;
    item.classList.toggle("stalled", !at || now - at > 60_000);
  }
}, 15_000);

ready();
