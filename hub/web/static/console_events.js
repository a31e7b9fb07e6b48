// Events and reports: the per-area chart's bars drawn to their share; the citizen reports (where
// a plugin serves /api/v1/reports) with their deadlines, overdue first.
for (const bar of document.querySelectorAll("#per-area .bar")) {
  bar.style.width = `${Number(bar.dataset.share)}%`;
}

const section = document.getElementById("reports-section");
const table = document.getElementById("reports");
const names = JSON.parse(document.getElementById("camera-names")?.textContent || "{}");
const lang = document.documentElement.lang;

function when(text) {
  return text ? new Date(text).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short",
    timeZone: document.documentElement.dataset.zone }) : "";
}

async function reports() {
  const answer = await fetch("/api/v1/reports");
  if (!answer.ok) return;  // no plugin files citizen reports on this hub
  const found = await answer.json();
  const rank = (r) => (r.overdue ? 0 : r.state === "open" ? 1 : r.state === "pending" ? 2 : 3);
  found.sort((a, b) => rank(a) - rank(b) || Date.parse(a.deadline || a.created_at) - Date.parse(b.deadline || b.created_at));
  const body = table.querySelector("tbody");
  body.replaceChildren();
  if (!found.length) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = 4;
    cell.textContent = table.dataset.none;
  }
  for (const r of found.slice(0, 200)) {
    const row = body.insertRow();
    row.className = r.overdue ? "overdue" : `report-${r.state}`;
    for (const text of [names[r.camera_id] ?? r.camera_id ?? "", r.overdue ? table.dataset.overdue : (table.dataset[r.state] ?? r.state),
      when(r.deadline), r.agency_responsible ?? ""]) {
      row.insertCell().textContent = text;
    }
  }
  section.hidden = false;
}
reports();
