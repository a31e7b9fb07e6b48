// A school's page: record classrooms (hours, consent basis), invite parents, revoke them.
import { csrf, problemText, ready } from "/static/pages.js";
import { inviteForm } from "/static/invite.js";

const form = document.getElementById("invite");
inviteForm(form, () => form.dataset.site);

const revoked = document.getElementById("revoked");
for (const button of document.querySelectorAll("button.revoke")) {
  button.addEventListener("click", async () => {
    const who = button.dataset.username;
    const answer = await fetch(`/api/v1/parents/${encodeURIComponent(who)}`, {
      method: "DELETE", headers: { "X-CSRF-Token": csrf() },
    });
    if (answer.ok) {
      button.closest("tr").remove();
      revoked.textContent = revoked.dataset.done.replace("%(username)s", who);
      revoked.hidden = false;
    }
  });
}

const room = document.getElementById("room");
for (const button of document.querySelectorAll("button.edit-room")) {
  button.addEventListener("click", () => {
    room.querySelector("#room-name").value = button.dataset.name;
    room.querySelector("#room-hours").value = button.dataset.hours;
    room.querySelector("#room-consent").value = button.dataset.consent;
    room.querySelector("#room-name").focus();
  });
}
room.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = room.querySelector("#room-name").value.trim();
  const answer = await fetch(
    `/api/v1/sites/${encodeURIComponent(room.dataset.site)}/classrooms/${encodeURIComponent(name)}`, {
      method: "PUT",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify({ hours: room.querySelector("#room-hours").value,
        consent: room.querySelector("#room-consent").value || null }),
    });
  if (answer.ok) {
    location.reload();
    return;
  }
  const problem = document.getElementById("room-problem");
  problem.textContent = await problemText(answer, problem.dataset.failed);
  problem.hidden = false;
});

ready();
