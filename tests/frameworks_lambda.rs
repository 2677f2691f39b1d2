//! AWS Lambda behind API Gateway (issue 17 item 5): routes of
//! `serverless.yml` and SAM `template.yaml` to handler functions (Python
//! and JS/TS), authorizers as auth, API Gateway throttling and usage plans
//! as rate limits, wildcard CORS of the manifest; on the two fixtures and
//! on small projects written here.

mod common;

use common::*;

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn serverless_function_with_authorizer_and_usage_plan() {
    let dir = materialize("lambda-protected");
    let json = inventory_json(dir.path());
    assert_eq!(json["frameworks"], serde_json::json!(["AWS Lambda"]));
    assert_eq!(
        endpoint_routes(&json),
        routes(&[("POST", "/chat", true), ("GET", "/health", false)])
    );
    let chat = endpoint_at(&json, "/chat");
    assert_eq!(chat["handler"], "chat");
    assert_eq!(chat["file"], "src/handler.py");
    assert_eq!(
        evidence(chat, "auth"),
        pairs(&[(
            "enforced",
            "authorizer: COGNITO_USER_POOLS (serverless.yml:25)"
        )])
    );
    assert_eq!(
        evidence(chat, "rate_limits"),
        pairs(&[
            (
                "rate-limit",
                "API Gateway at serverless.yml:14 usage plan throttle 5/s burst 10 per API key"
            ),
            (
                "rate-limit",
                "API Gateway at serverless.yml:17 usage plan quota 500 per DAY per API key"
            ),
        ])
    );
    // Not `private: true`: the usage plan does not meter it.
    assert_eq!(
        evidence(endpoint_at(&json, "/health"), "rate_limits"),
        vec![]
    );
}

#[test]
fn sam_function_open_to_any_origin() {
    let dir = materialize("lambda-unprotected");
    let json = inventory_json(dir.path());
    assert_eq!(endpoint_routes(&json), routes(&[("POST", "/chat", true)]));
    let chat = endpoint_at(&json, "/chat");
    assert_eq!(
        (chat["file"].as_str(), chat["line"].as_u64()),
        (Some("src/app.mjs"), Some(5))
    );
    assert_eq!(evidence(chat, "auth"), vec![]);
    let (_, audit, _) = audit_json(dir.path(), &["--select", "cors"]);
    let cors = &audit["findings"][0];
    assert_eq!(cors["rule"], "cors-wildcard-origin");
    assert_eq!(cors["path"], "template.yaml");
    let message = cors["message"].as_str().unwrap();
    assert!(
        message.contains("Its AI endpoints (POST /chat)"),
        "{message}"
    );
}

#[test]
fn http_api_events_commonjs_exports_and_stage_throttling() {
    let serverless = r#"service: ask
provider:
  name: aws
  runtime: nodejs20.x
  httpApi:
    cors: true
custom:
  apiGatewayThrottling:
    maxRequestsPerSecond: 20
functions:
  ask:
    handler: handlers/ask.main
    events:
      - httpApi: 'POST /ask'
      - http:
          path: v1/ask
          method: post
"#;
    let handler = r#"const Anthropic = require("@anthropic-ai/sdk");

const client = new Anthropic();

module.exports.main = async (event) => {
  const { question } = JSON.parse(event.body);
  const msg = await client.messages.create({
    model: "claude-3-5-haiku-latest",
    max_tokens: 300,
    messages: [{ role: "user", content: question }],
  });
  return { statusCode: 200, body: JSON.stringify(msg.content) };
};
"#;
    let dir = write_project(&[
        ("backend/serverless.yml", serverless),
        ("backend/handlers/ask.js", handler),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        routes(&[("POST", "/ask", true), ("POST", "/v1/ask", true)])
    );
    // The stage-wide plugin throttles `http` (REST) events only.
    assert_eq!(evidence(endpoint_at(&json, "/ask"), "rate_limits"), vec![]);
    assert_eq!(
        evidence(endpoint_at(&json, "/v1/ask"), "rate_limits"),
        pairs(&[(
            "rate-limit",
            "API Gateway at backend/serverless.yml:9 throttling 20 requests/s, one counter for all callers"
        )])
    );
    let (_, audit, _) = audit_json(dir.path(), &["--select", "cors,rate-limit"]);
    assert_eq!(
        finding_keys(&audit),
        [
            "cors cors-wildcard-origin backend/serverless.yml:6",
            // One handler, one finding: `/v1/ask` is named as its alias.
            "rate-limit ai-endpoint-not-rate-limited backend/handlers/ask.js:5",
        ]
    );
}

#[test]
fn sam_http_api_with_iam_and_route_throttling() {
    let template = r#"Transform: AWS::Serverless-2016-10-31
Resources:
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: AWS_IAM
      DefaultRouteSettings:
        ThrottlingRateLimit: 2
        ThrottlingBurstLimit: 4
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: app/
      Handler: main.handler
      Runtime: python3.12
      Events:
        Ask:
          Type: HttpApi
          Properties:
            ApiId: !Ref Http
            Path: /ask
            Method: POST
"#;
    let handler = r#"import json

from openai import OpenAI

client = OpenAI()


def handler(event, context):
    body = json.loads(event["body"])
    out = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": body["q"]}],
        max_tokens=300,
    )
    return {"statusCode": 200, "body": out.choices[0].message.content}
"#;
    let dir = write_project(&[("template.yaml", template), ("app/main.py", handler)]);
    let json = inventory_json(dir.path());
    let ask = endpoint_at(&json, "/ask");
    assert_eq!(ask["method"], "POST");
    assert_eq!(
        evidence(ask, "auth"),
        pairs(&[("enforced", "DefaultAuthorizer: AWS_IAM (template.yaml:19)")])
    );
    assert_eq!(
        evidence(ask, "rate_limits"),
        pairs(&[(
            "rate-limit",
            "API Gateway at template.yaml:9 stage throttling 2/s burst 4, one counter for all callers"
        )])
    );
}

#[test]
fn a_broken_manifest_is_skipped() {
    let dir = write_project(&[
        (
            "serverless.yml",
            "functions:\n  chat: [\n    handler: x.y\n",
        ),
        ("template.yaml", "Resources: {{\n"),
        ("x.py", "def y(event, context):\n    return 1\n"),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(endpoint_routes(&json), vec![]);
}

#[test]
fn api_gateway_in_front_of_a_wrapped_web_app() {
    let serverless = r#"service: chat
provider:
  name: aws
  runtime: python3.12
custom:
  apiGatewayThrottling:
    maxRequestsPerSecond: 10
functions:
  api:
    handler: app/lambda.handler
    events:
      - http:
          path: /{proxy+}
          method: any
          authorizer: aws_iam
"#;
    let lambda = "from mangum import Mangum\n\nfrom app.main import app\n\nhandler = Mangum(app)\n";
    let main = r#"import os

from fastapi import FastAPI
from openai import OpenAI

app = FastAPI()
client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])


@app.post("/chat")
def chat(message: str):
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": message}],
        max_tokens=300,
    )
    return {"reply": reply.choices[0].message.content}
"#;
    let dir = write_project(&[
        ("serverless.yml", serverless),
        ("app/__init__.py", ""),
        ("app/lambda.py", lambda),
        ("app/main.py", main),
    ]);
    let json = inventory_json(dir.path());
    // The FastAPI route, not a Lambda `ANY /{proxy+}` beside it.
    assert_eq!(json["frameworks"], serde_json::json!(["FastAPI"]));
    let chat = endpoint_at(&json, "/chat");
    assert_eq!(
        evidence(chat, "auth"),
        pairs(&[(
            "enforced",
            "API Gateway authorizer: aws_iam (serverless.yml:13)"
        )])
    );
    assert_eq!(
        evidence(chat, "rate_limits"),
        pairs(&[(
            "rate-limit",
            "API Gateway at serverless.yml:7 throttling 10 requests/s, one counter for all callers"
        )])
    );
}
