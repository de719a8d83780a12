"use strict";
// Select the whole embed snippet on a click, so it copies in one go (a file, not an onclick attribute: CSP).
document.getElementById("embed-snippet")?.addEventListener("click", (event) => event.target.select());
