// The operator console: the health board follows the cameras' status every 5 s; a parent is
// invited from the page (the answer's single-use link is shown, never stored).
import { ready } from "/static/pages.js";
import { inviteForm } from "/static/invite.js";

// The per-area chart: each bar's parts drawn to their share (no inline style: the CSP forbids it).
for (const part of document.querySelectorAll("#areas .part")) {
  part.style.width = `${Number(part.dataset.share)}%`;
}

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
inviteForm(form, () => form.querySelector("#site").value);

ready();
