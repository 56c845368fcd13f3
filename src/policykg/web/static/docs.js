// Starts Swagger UI on the /docs page: the page names the API description in data-openapi-url, so it has no
// inline script. Our own file (served from /docs/assets with the Swagger UI bundle), not Swagger UI's.
"use strict";

(function () {
  var holder = document.getElementById("swagger-ui");
  if (!holder || typeof SwaggerUIBundle !== "function") {
    return;
  }
  window.ui = SwaggerUIBundle({
    url: holder.dataset.openapiUrl,
    domNode: holder,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    deepLinking: true,
    showExtensions: true,
    // No badge from validator.swagger.io: the page loads nothing from elsewhere.
    validatorUrl: null
  });
})();
