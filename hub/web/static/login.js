// Signing in: the session comes back as an HttpOnly cookie; nothing is kept in the page's storage.
import { ready } from "/static/pages.js";

const form = document.getElementById("login");
const problem = document.getElementById("problem");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  problem.hidden = true;
  const answer = await fetch("/api/v1/session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.username.value, password: form.password.value }),
  });
  if (answer.ok) {
    location.href = "/saya";
    return;
  }
  problem.textContent = answer.status === 429 ? problem.dataset.later : problem.dataset.wrong;
  problem.hidden = false;
});

ready();
