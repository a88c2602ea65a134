// Progressive enhancement only: every page works without this file.
// The file's filter form narrows the event table as you type, without a reload.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.filters");
  const table = document.getElementById("events");
  if (!form || !table) return;
  const kind = form.querySelector("select[name=type]");
  const text = form.querySelector("input[name=q]");
  const rows = Array.from(table.tBodies[0].rows);
  const caption = table.caption;
  const apply = () => {
    const k = kind.value;
    const q = text.value.trim().toLowerCase();
    let shown = 0;
    for (const row of rows) {
      const visible = (!k || row.dataset.kind === k) && (!q || row.textContent.toLowerCase().includes(q));
      row.hidden = !visible;
      shown += visible ? 1 : 0;
    }
    if (caption) caption.firstChild.nodeValue = `${shown} events shown, newest first. Dispute any item you believe is wrong.`;
  };
  kind.addEventListener("change", apply);
  text.addEventListener("input", apply);
});
