// Starts Swagger UI on /docs. A static file (not inline) so the page's CSP needs no
// 'unsafe-inline'; the validator badge is off (it would load an image from outside).
"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  // no deep links: Swagger UI draws them as links inside each operation's button, a nested
  // control that screen readers cannot reach (axe-core: nested-interactive)
  deepLinking: false,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
