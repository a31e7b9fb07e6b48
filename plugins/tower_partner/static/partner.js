// A partner's page: "stop sharing now" (and share again) per camera; submit a device and read why it was refused.
import { csrf, problemText } from "/static/pages.js";

const partner = document.getElementById("submit-device").dataset.partner;
const shareProblem = document.getElementById("share-problem");
for (const button of document.querySelectorAll("button.share")) {
  button.addEventListener("click", async () => {
    const camera = button.closest("[data-camera]").dataset.camera;
    button.disabled = true;
    const answer = await fetch(
      `/api/v1/partners/${encodeURIComponent(partner)}/cameras/${encodeURIComponent(camera)}/sharing`, {
        method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify({ sharing: button.dataset.sharing === "true" }),
      });
    if (answer.ok) {
      location.reload();
      return;
    }
    button.disabled = false;
    shareProblem.textContent = await problemText(answer, shareProblem.dataset.failed);
    shareProblem.hidden = false;
  });
}

const form = document.getElementById("submit-device");
const reasons = JSON.parse(document.getElementById("reason-texts").textContent);
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const problem = document.getElementById("device-problem");
  const checking = document.getElementById("device-checking");
  const done = document.getElementById("device-done");
  problem.hidden = done.hidden = true;
  checking.hidden = false;
  const value = (id) => form.querySelector(`#${id}`).value.trim();
  const answer = await fetch(`/api/v1/partners/${encodeURIComponent(partner)}/submissions`, {
    method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify({ type: value("device-type"), host: value("device-host"),
      port: value("device-port") ? Number(value("device-port")) : null, username: value("device-username"),
      password: form.querySelector("#device-password").value, site: value("device-site") || null }),
  });
  checking.hidden = true;
  form.querySelector("#device-password").value = "";
  if (!answer.ok) {
    problem.textContent = await problemText(answer, problem.dataset.failed);
    problem.hidden = false;
    return;
  }
  const made = await answer.json();
  if (made.state === "refused") {
    problem.textContent = `${reasons[made.reason_code] || problem.dataset.failed} (${made.reason})`;
    problem.hidden = false;
    return;
  }
  done.textContent = done.dataset.valid.replace("%(n)s", made.found.length);
  done.hidden = false;
});
