// Low-latency live: the hub's MP4 fragments, one a frame, over a WebSocket into Media Source
// Extensions (ManagedMediaSource on iOS 17.1+).  HLS is the fallback: where neither exists, or the
// browser cannot play the camera's codec, `playMse` answers false and the caller plays HLS.
const Source = window.ManagedMediaSource || window.MediaSource;

export function mseSupported() {
  return Boolean(Source);
}

// Plays the live view whose WebSocket is `path` in `video`.  `ended(code)` is called once when the
// hub closes it (4403: access ended, 1001: the camera's output stopped) or the link drops.
// Resolves to false when the camera's codec cannot be played here (nothing is left open).
export function playMse(video, path, ended = () => {}) {
  return new Promise((resolve) => {
    const source = new Source();
    const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`);
    socket.binaryType = "arraybuffer";
    const queue = [];
    let buffer = null;
    let mime = null;
    let announced = null;
    let started = false;
    let last = Date.now();

    video.hidden = false;
    video.disableRemotePlayback = true;  // ManagedMediaSource plays only with remote playback off
    video.dataset.transport = "mse";
    video.src = URL.createObjectURL(source);

    function fail() {
      socket.onclose = null;
      socket.close();
      video.removeAttribute("src");
      delete video.dataset.transport;
      resolve(false);
    }

    // Stay at the live edge: the first picture is the newest (a newcomer is sent the frames since
    // the last keyframe), a view that fell behind (a stall, a tab in the background) jumps to it,
    // and what was watched long ago is let go so the buffer does not grow.
    function keepLive() {
      const ranges = video.buffered;
      if (!ranges.length) return;
      const end = ranges.end(ranges.length - 1);
      if (end - video.currentTime > 0.5) video.currentTime = Math.max(ranges.start(ranges.length - 1), end - 0.1);
      if (!buffer.updating && video.currentTime - ranges.start(0) > 30) buffer.remove(0, video.currentTime - 10);
    }

    function pump() {
      if (source.readyState !== "open" || (buffer && buffer.updating) || !queue.length) return;
      const next = queue.shift();
      if (next.mime) {
        if (!Source.isTypeSupported(next.mime)) return fail();
        if (!buffer) {
          buffer = source.addSourceBuffer(next.mime);
          buffer.mode = "sequence";  // a camera restart's timestamps that start again play on
          buffer.addEventListener("updateend", () => { keepLive(); pump(); });
        } else if (next.mime !== mime) {
          buffer.changeType(next.mime);
        }
        mime = next.mime;
      }
      buffer.appendBuffer(next.data);
      if (!started) {
        started = true;
        resolve(true);
        video.play().catch(() => {});
      }
    }

    source.addEventListener("sourceopen", pump);
    socket.onmessage = (message) => {
      if (typeof message.data === "string") {
        const said = JSON.parse(message.data);
        if (said.type === "init") announced = said.mime;
        return;
      }
      last = Date.now();
      queue.push({ mime: announced, data: message.data });
      announced = null;
      pump();
    };
    // A tile goes grey while no picture comes, and its colour comes back with the next one.
    const watch = setInterval(() => video.classList.toggle("stalled", Date.now() - last > 5000), 1000);
    socket.onclose = (event) => {
      clearInterval(watch);
      if (!started) resolve(false);
      ended(event.code);
    };
  });
}
