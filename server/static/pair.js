// The pairing page before the first pairing (pair.html): asks the server every 3 s whether a
// pairing request came, and reloads the page only then, to show its code. A refresh every 3 s
// (the page's way without JavaScript) sent a screen reader back to the top while it read.
"use strict";
(function () {
  const every = 3000;
  async function look() {
    try {
      const r = await fetch("/pair/waiting", { cache: "no-store", headers: { Accept: "application/json" } });
      if (r.ok) {
        const w = await r.json();
        if (w.pending || w.clients) {
          location.reload();
          return;
        }
      }
    } catch (e) {
      // the server stopped for a moment: look again
    }
    setTimeout(look, every);
  }
  setTimeout(look, every);
})();
