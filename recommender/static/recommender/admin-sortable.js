"use strict";
// Sortable tables: a button in each header sorts by the cells' data-sort values (numbers as numbers).
document.querySelectorAll("table.rec-sortable").forEach((table) => {
  const heads = table.querySelectorAll("thead th");
  heads.forEach((th, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.append(...th.childNodes);
    th.append(button);
    button.addEventListener("click", () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach((h) => h.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const body = table.tBodies[0];
      const rows = Array.from(body.rows).filter((r) => r.cells.length === heads.length);
      const key = (row) => {
        const value = row.cells[index].dataset.sort ?? row.cells[index].textContent;
        return value !== "" && !isNaN(value) ? Number(value) : value.toLowerCase();
      };
      rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (ascending ? 1 : -1));
      body.append(...rows);
    });
  });
});
