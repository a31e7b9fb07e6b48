// Shared by every page: the language switch and signing out.  No data is kept in the browser's
// storage: the session is an HttpOnly cookie; the CSRF token is in the page, from the server.
const lang = document.getElementById("lang");
lang?.addEventListener("change", () => {
  document.cookie = `lang=${lang.value}; path=/; max-age=31536000; samesite=lax`;
  location.reload();
});
lang?.form?.addEventListener("submit", (event) => {
  event.preventDefault();
  document.cookie = `lang=${lang.value}; path=/; max-age=31536000; samesite=lax`;
  location.reload();
});

// What to tell people when the API says no: the text of the answer's stable error code in the
// page's language (the server puts them in the page), else `fallback`.
const problemTexts = JSON.parse(document.getElementById("problem-texts")?.textContent || "{}");
export async function problemText(answer, fallback) {
  try {
    const body = await answer.json();
    return problemTexts[body.code] ?? fallback;
  } catch {
    return fallback;
  }
}

export function csrf() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

const signOut = document.getElementById("sign-out");
signOut?.addEventListener("click", async () => {
  await fetch("/api/v1/session", { method: "DELETE", headers: { "X-CSRF-Token": csrf() } });
  location.href = "/";
});
if (signOut) signOut.disabled = false;

// Buttons a script answers come disabled from the server (data-script): pressed before the script
// has run, a form would go the browser's way (a reload that drops what was typed) and a button would
// do nothing. Each page's script calls ready() once its handlers are attached.
export function ready() {
  for (const button of document.querySelectorAll("button[data-script]")) button.disabled = false;
}

// hls.js is loaded when the first camera is played, not with the page: a thin link first gets
// the list and the pictures.
let hlsLoading = null;
function loadHls() {
  hlsLoading ??= new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = "/vendor/hls.min.js";
    script.onload = script.onerror = () => resolve(window.Hls);
    document.head.append(script);
  });
  return hlsLoading;
}

// Plays an HLS playlist in a <video>: natively where the browser can, else with hls.js.
export async function play(video, playlist) {
  video.hidden = false;
  await loadHls();  // with Media Source Extensions hls.js plays it; without (older iPhones) the browser does
  if (window.Hls?.isSupported()) {
    const hls = new window.Hls({ liveSyncDurationCount: 2 });
    hls.loadSource(playlist);
    hls.attachMedia(video);
    video.hls = hls;
  } else {
    video.src = playlist;
  }
  video.play().catch(() => {});
}

// A section wider than a narrow screen scrolls sideways: it takes the keyboard's focus too, so
// it can be scrolled without a mouse (axe: scrollable-region-focusable).
for (const section of document.querySelectorAll("section")) {
  if (section.scrollWidth > section.clientWidth) section.tabIndex = 0;
}
