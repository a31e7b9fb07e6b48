// My cameras: join a live view (with the session cookie and the page's CSRF token) and play it,
// at a frame's delay over MSE where the browser can, else over HLS.
import { csrf, play, ready } from "/static/pages.js";
import { mseSupported, playMse } from "/static/mse.js";

const problem = document.getElementById("live-problem");

function say(text) {
  problem.textContent = text;
  problem.hidden = false;
}

async function join(camera, transport) {
  const answer = await fetch(
    `/api/v1/cameras/${encodeURIComponent(camera)}/live?transport=${transport}`,
    { method: "POST", headers: { "X-CSRF-Token": csrf() } },
  );
  if (!answer.ok) {
    say(answer.status === 403 ? problem.dataset.closed : problem.dataset.failed);
    return null;
  }
  return answer.json();
}

async function watch(button) {
  const camera = button.dataset.camera;
  const video = document.querySelector(`video[data-camera="${CSS.escape(camera)}"]`);
  let view = await join(camera, mseSupported() ? "mse" : "hls");
  if (!view) return;
  button.hidden = true;
  if (view.transport === "mse") {
    const ended = (code) => {
      if (code === 4403) say(problem.dataset.closed);
      else if (code !== 1000) say(problem.dataset.stopped);
      video.hidden = true;
      button.hidden = false;
    };
    if (await playMse(video, view.websocket, ended)) return;
    view = await join(camera, "hls");  // this browser cannot play the camera's codec over MSE
    if (!view) return;
  }
  play(video, view.playlist);
}

for (const button of document.querySelectorAll("button.play")) {
  button.addEventListener("click", () => watch(button));
}

// The grid: the first few open cameras at once (no more than the views an account may hold).
document.getElementById("watch-all")?.addEventListener("click", (event) => {
  const limit = Number(event.target.dataset.limit);
  [...document.querySelectorAll("button.play")].filter((b) => !b.hidden).slice(0, limit).forEach(watch);
  event.target.hidden = true;
});

ready();
