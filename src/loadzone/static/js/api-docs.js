// Starts Swagger UI on the API docs page (kept out of the HTML: the CSP forbids inline scripts).
const target = document.getElementById("swagger-ui");
window.SwaggerUIBundle({ url: target.dataset.specUrl, dom_id: "#swagger-ui" });
