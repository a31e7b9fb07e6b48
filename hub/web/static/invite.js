// Inviting a parent from a page (the console, a school's page): the single-use link is shown once.
import { csrf } from "/static/pages.js";

export function inviteForm(form, siteOf) {
  const told = document.getElementById("invited");
  const link = document.getElementById("invite-link");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await fetch(`/api/v1/sites/${encodeURIComponent(siteOf())}/parents`, {
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
}
