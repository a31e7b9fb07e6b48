// Access grants: give one (the hub takes it within a second), revoke one in place.
import { csrf, problemText, ready } from "/static/pages.js";

const give = document.getElementById("give");
give.addEventListener("submit", async (event) => {
  event.preventDefault();
  const value = (id) => give.querySelector(id).value.trim();
  const answer = await fetch("/api/v1/grants", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify({
      principal: value("#principal"),
      actions: [...give.querySelectorAll(".action:checked")].map((box) => box.value),
      cameras: value("#cameras").split(/\s+/).filter(Boolean),
      hours: value("#hours") || null,
      until: value("#until") || null,
      note: value("#note") || null,
    }),
  });
  if (answer.ok) {
    location.reload();
    return;
  }
  const problem = document.getElementById("give-problem");
  problem.textContent = await problemText(answer, problem.dataset.failed);
  problem.hidden = false;
});

for (const button of document.querySelectorAll("button.revoke")) {
  button.addEventListener("click", async () => {
    const answer = await fetch(`/api/v1/grants/${encodeURIComponent(button.dataset.grant)}`, {
      method: "DELETE", headers: { "X-CSRF-Token": csrf() },
    });
    if (answer.ok) button.closest("tr").remove();
  });
}

ready();
