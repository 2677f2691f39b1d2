//! Rate limits enforced in front of the app (issue 17 item 6): nginx
//! `limit_req` on the location that proxies the AI route, Traefik
//! rate-limit middleware (compose labels and the file provider), Caddy's
//! `rate_limit`, Kong's `rate-limiting` plugin; on the fixtures and on
//! small projects written here for the shapes the fixtures do not hold.

mod common;

use common::*;
use serde_json::Value;

/// The `detail` of each rate-limit evidence of an endpoint.
fn limits(e: &Value) -> Vec<String> {
    details(e, "rate_limits")
}

/// `check rule path:line` of an audit's findings.
fn findings(dir: &std::path::Path, select: &str) -> Vec<String> {
    let (_, json, _) = audit_json(dir, &["--select", select]);
    finding_keys(&json)
}

const FASTAPI_CHAT: &str = r#"import os

from fastapi import FastAPI
from openai import OpenAI
from pydantic import BaseModel

app = FastAPI()
client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])


class Ask(BaseModel):
    message: str
    model: str


@app.post("/chat")
def chat(body: Ask):
    reply = client.chat.completions.create(
        model=body.model,
        messages=[{"role": "user", "content": body.message}],
        max_tokens=300,
    )
    return {"reply": reply.choices[0].message.content}
"#;

#[test]
fn nginx_limit_req_on_the_proxying_location_is_evidence() {
    let dir = materialize("gateway-nginx-protected");
    let json = inventory_json(dir.path());
    let chat = endpoint_at(&json, "/chat");
    assert_eq!(
        limits(chat),
        ["nginx at nginx/nginx.conf:20 limit_req zone=ai_per_ip rate=10r/m key=$binary_remote_addr burst=5"]
    );
    // A per-minute window only: the daily-cap warning, no store warning.
    assert_eq!(
        findings(dir.path(), "rate-limit,rate-limit-store"),
        ["rate-limit rate-limit-no-daily-cap backend/main.py:15"]
    );
}

#[test]
fn a_limit_on_another_location_is_no_evidence() {
    let dir = materialize("gateway-nginx-unprotected");
    let json = inventory_json(dir.path());
    assert_eq!(limits(endpoint_at(&json, "/chat")), Vec::<String>::new());
    assert_eq!(
        limits(endpoint_at(&json, "/auth/login")),
        ["nginx at nginx/nginx.conf:20 limit_req zone=login rate=5r/m key=$binary_remote_addr burst=3"]
    );
}

#[test]
fn traefik_middleware_covers_only_its_routers_service() {
    let dir = materialize("gateway-traefik");
    let json = inventory_json(dir.path());
    assert_eq!(
        limits(endpoint_at(&json, "/chat")),
        ["Traefik at docker-compose.yml:21 rateLimit average=30 period=1m burst=10"]
    );
    assert_eq!(
        limits(endpoint_at(&json, "/summarize")),
        Vec::<String>::new()
    );
}

#[test]
fn traefik_file_provider_middleware() {
    let dynamic = r#"http:
  routers:
    chat:
      rule: "Host(`ai.example.com`) && PathPrefix(`/chat`)"
      service: app
      middlewares:
        - per-ip@file
  middlewares:
    per-ip:
      rateLimit:
        average: 100
        period: 24h
  services:
    app:
      loadBalancer:
        servers:
          - url: "http://127.0.0.1:8000"
"#;
    let dir = write_project(&[("main.py", FASTAPI_CHAT), ("traefik/dynamic.yml", dynamic)]);
    let json = inventory_json(dir.path());
    assert_eq!(
        limits(endpoint_at(&json, "/chat")),
        ["Traefik at traefik/dynamic.yml:11 rateLimit average=100 period=24h"]
    );
    // A daily window: no daily-cap warning.
    assert_eq!(findings(dir.path(), "rate-limit"), Vec::<String>::new());
}

#[test]
fn caddy_rate_limit_zone_and_quota_still_applies() {
    let caddy = "ai.example.com {\n\thandle /chat* {\n\t\trate_limit {\n\t\t\tzone chat {\n\t\t\t\tkey {remote_host}\n\t\t\t\tevents 20\n\t\t\t\twindow 1m\n\t\t\t}\n\t\t}\n\t\treverse_proxy app:8000\n\t}\n\thandle {\n\t\treverse_proxy app:8000\n\t}\n}\n";
    let dir = write_project(&[("main.py", FASTAPI_CHAT), ("Caddyfile", caddy)]);
    let json = inventory_json(dir.path());
    assert_eq!(
        limits(endpoint_at(&json, "/chat")),
        ["Caddy at Caddyfile:4 rate_limit zone chat events 20 window 1m"]
    );
    // A gateway counts per address, not per user: the caller still picks
    // the model, and quota says so.
    assert_eq!(
        findings(dir.path(), "rate-limit,quota"),
        [
            "quota quota-client-chooses-cost main.py:16",
            "rate-limit rate-limit-no-daily-cap main.py:16",
        ]
    );
}

#[test]
fn kong_plugin_on_the_service_with_a_daily_window() {
    let kong = r#"_format_version: "3.0"
services:
  - name: chat-api
    url: http://api:8000
    routes:
      - name: chat
        paths:
          - /v1
plugins:
  - name: rate-limiting
    service: chat-api
    config:
      minute: 10
      day: 200
      policy: redis
"#;
    let compose = "services:\n  api:\n    build: .\n  kong:\n    image: kong:3.8\n";
    let dir = write_project(&[
        ("main.py", FASTAPI_CHAT),
        ("kong/kong.yml", kong),
        ("docker-compose.yml", compose),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        limits(endpoint_at(&json, "/chat")),
        ["Kong at kong/kong.yml:10 rate-limiting minute=10 day=200 policy=redis"]
    );
    assert_eq!(findings(dir.path(), "rate-limit"), Vec::<String>::new());
}

#[test]
fn a_gateway_in_front_of_another_service_is_no_evidence() {
    let nginx = "limit_req_zone $binary_remote_addr zone=z:1m rate=1r/s;\nserver {\n  location / {\n    limit_req zone=z;\n    proxy_pass http://ollama:11434;\n  }\n}\n";
    let compose = "services:\n  api:\n    build: ./api\n  ollama:\n    image: ollama/ollama\n";
    let dir = write_project(&[
        ("api/main.py", FASTAPI_CHAT),
        ("nginx/default.conf", nginx),
        ("compose.yaml", compose),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(limits(endpoint_at(&json, "/chat")), Vec::<String>::new());
}

#[test]
fn broken_configurations_are_skipped() {
    let dir = write_project(&[
        ("main.py", FASTAPI_CHAT),
        (
            "nginx.conf",
            "server { location / { limit_req zone=\"x; proxy_pass",
        ),
        ("docker-compose.yml", "services: [\n  - {"),
        ("Caddyfile", "}}\n{ rate_limit"),
        ("kong.yml", "_format_version: \"3.0\"\nservices: {{{\n"),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(limits(endpoint_at(&json, "/chat")), Vec::<String>::new());
}
