// The operator console: the health board follows the cameras' status every 5 s; a parent is
// invited from the page (the answer's single-use link is shown, never stored).
import { csrf } from "/static/pages.js";

const board = document.getElementById("board");
async function refresh() {
  const answer = await fetch("/api/v1/cameras");
  if (!answer.ok) return;
  for (const camera of await answer.json()) {
    const row = board.querySelector(`tr[data-camera="${CSS.escape(camera.id)}"]`);
    if (!row) continue;
    row.className = `status-${camera.status}`;
    row.querySelector(".status").textContent = board.dataset[camera.status] ?? camera.status;
  }
}
setInterval(refresh, 5_000);

const form = document.getElementById("invite");
const told = document.getElementById("invited");
const link = document.getElementById("invite-link");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const site = form.querySelector("#site").value;
  const answer = await fetch(`/api/v1/sites/${encodeURIComponent(site)}/parents`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify({ classroom: form.querySelector("#classroom").value,
                           name: form.querySelector("#parent-name").value,
                           until: form.querySelector("#until").value }),
  });
  const body = await answer.json();
  told.hidden = false;
  if (answer.ok) {
    told.textContent = told.dataset.done.replace("%(username)s", body.username);
    link.textContent = body.link;
  } else {
    told.textContent = `${told.dataset.failed} ${body.detail ?? answer.status}`;
    link.textContent = "";
  }
});
