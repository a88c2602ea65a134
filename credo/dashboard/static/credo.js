// Progressive enhancement only: every page works without this file.
// The file's filter form narrows the event table as you type, without a reload.
"use strict";
// On a phone a table reflows to a cell a line (credo.css): each cell is labelled with its
// column's header, so "12" reads "Bin: 12", not a bare number.
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table")) {
    if (!table.tHead) continue;
    const heads = Array.from(table.tHead.rows[0].cells, (c) => c.textContent.trim());
    for (const body of table.tBodies) {
      for (const row of body.rows) {
        Array.from(row.cells).forEach((cell, k) => {
          if (heads[k] && !cell.dataset.label) cell.dataset.label = heads[k];
        });
      }
    }
  }
});
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
