"""The OpenAPI document, the interactive docs page and the health check."""

from __future__ import annotations

from tests.api.conftest import error_of

EVERY_PATH = {
    "/api/auth/login": {"post"},
    "/api/auth/logout": {"post"},
    "/api/me": {"get"},
    "/api/me/tokens": {"get", "post"},
    "/api/me/tokens/{token_id}": {"delete"},
    "/api/me/bookings": {"get"},
    "/api/vms": {"get", "post"},
    "/api/vms/{vm_id}": {"get", "patch", "delete"},
    "/api/vms/{vm_id}/book": {"post"},
    "/api/vms/{vm_id}/renew": {"post"},
    "/api/vms/{vm_id}/release": {"post"},
    "/api/groups": {"get", "post"},
    "/api/groups/{group_id}": {"get", "patch", "delete"},
    "/api/history": {"get"},
    "/api/notifications": {"get"},
    "/api/notifications/read": {"post"},
    "/api/export": {"get"},
    "/api/deliveries": {"get"},
    "/api/deliveries/{delivery_id}/retry": {"post"},
}


def test_openapi_document_lists_every_path_and_method(app):
    response = app.test_client().get("/api/openapi.json")  # no sign-in needed
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "LoadZone"
    assert spec["info"]["version"]
    for path, methods in EVERY_PATH.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), (path, set(spec["paths"][path]))
        for method in methods:
            assert spec["paths"][path][method]["responses"], (path, method)


def test_openapi_request_schemas_come_from_the_validators(app):
    spec = app.test_client().get("/api/openapi.json").get_json()
    book = spec["paths"]["/api/vms/{vm_id}/book"]["post"]
    ref = book["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["properties"]["hours"]["type"] == "integer"
    assert schema["required"] == ["hours"]
    history = spec["paths"]["/api/history"]["get"]
    names = {p["name"] for p in history["parameters"]}
    assert {"limit", "cursor", "vm_id", "user", "action", "since", "until"} <= names
    vms = {p["name"] for p in spec["paths"]["/api/vms"]["get"]["parameters"]}
    assert {"group", "status", "q"} <= vms
    assert {"cookie", "token"} <= set(spec["components"]["securitySchemes"])


def test_docs_page_is_html_served_from_the_package(app):
    response = app.test_client().get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "/api/openapi.json" in page
    assert "https://" not in page  # no CDN at run time
    assert app.test_client().get("/static/vendor/swagger-ui-dist/swagger-ui.css").status_code == 200


def test_healthz(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "deliveries_failed": 0}


def test_api_answers_are_not_cached(alice):
    assert alice.get("/api/vms").headers["Cache-Control"] == "no-store"
    error_of(alice.get("/api/vms/nope"), 404)
