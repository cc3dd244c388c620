// Starts ReDoc on /redoc. A static file (not inline) so the page's CSP needs no inline script.
// ReDoc injects its styles at run time: each <style> tag carries the nonce of this response
// (from the page's meta tag), which the page's Content-Security-Policy names.
// The theme only darkens colours that fail WCAG AA contrast.
"use strict";
Redoc.init(
  "/openapi.json",
  {
    nonce: document.querySelector('meta[name="vigia-style-nonce"]').content,
    expandResponses: "200,201",
    theme: {
      colors: {
        text: { secondary: "#4b5260" },
        responses: { error: { color: "#b3261e" } },
      },
      typography: { code: { color: "#b3261e", backgroundColor: "#f4f5f5" } },
    },
  },
  document.getElementById("redoc")
);
new MutationObserver(labelSelects).observe(document.getElementById("redoc"), {
  childList: true,
  subtree: true,
});

// ReDoc's content-type and example drop-downs have no label: name them for screen readers.
function labelSelects() {
  for (const select of document.querySelectorAll("#redoc select:not([aria-label])")) {
    select.setAttribute("aria-label", "Tipo de contenido o ejemplo");
  }
}
