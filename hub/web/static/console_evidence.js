// Evidence requests: approve or refuse one in place (a second person; a refusal says why).
import { csrf, problemText, ready } from "/static/pages.js";

for (const form of document.querySelectorAll("form.decide")) {
  const problem = form.querySelector(".problem");
  for (const [button, verdict] of [[form.querySelector(".approve"), "approve"], [form.querySelector(".refuse"), "refuse"]]) {
    button.addEventListener("click", async () => {
      const note = form.querySelector(".note").value || null;
      const answer = await fetch(`/api/v1/evidence/${encodeURIComponent(form.dataset.id)}/${verdict}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify({ note }),
      });
      if (answer.ok) {
        location.reload();
        return;
      }
      problem.textContent = await problemText(answer, problem.dataset.failed);
      problem.hidden = false;
    });
  }
}

ready();
