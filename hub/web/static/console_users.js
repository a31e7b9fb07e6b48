// Many accounts at once: the CSV is sent as it is; the hub checks every row first and either lists
// the problems with their lines or makes the accounts, whose passwords are offered once as a CSV.
import { csrf, problemText, ready } from "/static/pages.js";

const form = document.getElementById("import");
const state = document.getElementById("import-state");
const problems = document.getElementById("import-problems");
const passwords = document.getElementById("passwords");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = document.getElementById("csv").files[0];
  if (!file) return;
  state.textContent = state.dataset.working;
  state.hidden = false;
  problems.replaceChildren();
  passwords.hidden = true;
  form.querySelector("button").disabled = true;
  const answer = await fetch("/api/v1/users/import", {
    method: "POST",
    headers: { "Content-Type": "text/csv", "X-CSRF-Token": csrf() },
    body: await file.arrayBuffer(),
  });
  form.querySelector("button").disabled = false;
  if (!answer.ok) {
    const body = await answer.clone().json().catch(() => ({}));
    state.textContent = `${state.dataset.failed} ${await problemText(answer, "")}`;
    for (const line of body.problems ?? []) {
      const item = document.createElement("li");
      item.textContent = line.replace(/^upload\.csv:/, "");
      problems.append(item);
    }
    return;
  }
  const made = await answer.json();
  const created = Object.entries(made.created);
  state.textContent = state.dataset.done.replace("%(created)s", created.length).replace("%(updated)s", made.updated.length);
  if (created.length) {
    const text = ["username,password", ...created.map(([name, password]) => `${name},${password}`)].join("\n");
    passwords.href = URL.createObjectURL(new Blob([text + "\n"], { type: "text/csv" }));
    passwords.hidden = false;
  }
});

ready();
