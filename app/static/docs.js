// Starts Swagger UI on /docs. A static file (not inline) so the page's CSP needs no
// 'unsafe-inline'; the validator badge is off (it would load an image from outside).
"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
