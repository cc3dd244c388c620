// Starts ReDoc on /redoc. A static file (not inline) so the page's CSP needs no inline script;
// ReDoc injects its styles at run time, so /redoc alone allows inline styles (app/web/routes.py).
// The theme only darkens the colours that fail WCAG AA contrast (axe-core checks this page).
"use strict";
Redoc.init(
  "/openapi.json",
  {
    expandResponses: "200,201",
    theme: {
      colors: {
        text: { secondary: "#4b5260" },
        responses: { error: { color: "#b3261e", tabTextColor: "#ff8a80" } },
      },
      typography: { code: { color: "#b3261e", backgroundColor: "#f4f5f5" } },
    },
  },
  document.getElementById("redoc")
);
