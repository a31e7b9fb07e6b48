// My cameras: join a live view (with the session cookie and the page's CSRF token) and play it.
import { csrf, play } from "/static/pages.js";

const problem = document.getElementById("live-problem");
for (const button of document.querySelectorAll("button.play")) {
  button.addEventListener("click", async () => {
    const camera = button.dataset.camera;
    const answer = await fetch(`/api/v1/cameras/${encodeURIComponent(camera)}/live`, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf() },
    });
    if (!answer.ok) {
      problem.textContent = answer.status === 403 ? problem.dataset.closed : problem.dataset.failed;
      problem.hidden = false;
      return;
    }
    const view = await answer.json();
    button.hidden = true;
    play(document.querySelector(`video[data-camera="${CSS.escape(camera)}"]`), view.playlist);
  });
}
