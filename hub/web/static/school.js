// A school's page: invite parents, revoke them.
import { csrf } from "/static/pages.js";
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
