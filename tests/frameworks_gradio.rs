//! Gradio (issue 17 item 7): the functions interfaces and event listeners
//! run are endpoints of the app's HTTP API, with launch auth and no rate
//! limit of their own.

mod common;

use common::*;
use serde_json::Value;

fn inventory(fixture: &str) -> Value {
    fixture_inventory(fixture)
}

#[test]
fn interfaces_and_listeners_are_endpoints_without_auth_or_limit() {
    let json = inventory("gradio-unprotected");
    let paths: Vec<&str> = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/gradio_api/call/respond",
            "/gradio_api/call/summarize",
            "/gradio_api/call/word_count"
        ]
    );
    for path in ["/gradio_api/call/respond", "/gradio_api/call/summarize"] {
        let e = endpoint_at(&json, path);
        assert_eq!(e["framework"], "Gradio");
        assert_eq!(e["method"], "POST");
        assert_eq!(e["ai"]["provider"], "OpenAI", "{e}");
        // The queue is no rate limit; auth only when configured is no auth.
        assert_eq!(e["rate_limits"].as_array().unwrap().len(), 0, "{e}");
        assert_eq!(e["auth"].as_array().unwrap().len(), 0, "{e}");
    }
    assert!(endpoint_at(&json, "/gradio_api/call/word_count")["ai"].is_null());
}

#[test]
fn launch_auth_and_a_project_limiter_protect_a_star_imported_handler() {
    let json = inventory("gradio-protected");
    let e = endpoint_at(&json, "/gradio_api/call/chat");
    // `message.submit(**chat_args)` with `fn=respond` from `from handlers import *`.
    assert_eq!(e["handler"], "respond", "{e}");
    assert_eq!(e["ai"]["path"], "handlers.py", "{e}");
    let auth = e["auth"].as_array().unwrap();
    assert_eq!(auth.len(), 1, "{e}");
    assert_eq!(auth[0]["kind"], "enforced");
    assert_eq!(auth[0]["detail"], "demo.launch(auth=…)");
    assert_eq!(e["rate_limits"].as_array().unwrap().len(), 1, "{e}");
}

#[test]
fn a_function_several_listeners_run_is_one_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.py"),
        "import gradio as gr\nfrom openai import OpenAI\n\nclient = OpenAI()\n\n\
         def answer(q):\n    return client.responses.create(model=\"gpt-4o-mini\", input=q, max_output_tokens=100).output_text\n\n\
         with gr.Blocks() as demo:\n    box = gr.Textbox()\n    out = gr.Textbox()\n    \
         box.submit(answer, box, out)\n    gr.Button(\"Ask\").click(answer, box, out)\n\
         demo.launch()\n",
    )
    .unwrap();
    let run = aiguard(&["inventory", ".", "--format", "json"], dir.path());
    let json: Value = serde_json::from_str(&run.stdout).expect("inventory JSON");
    let endpoints = json["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 1, "{json}");
    assert_eq!(endpoints[0]["path"], "/gradio_api/call/answer");
    assert_eq!(endpoints[0]["line"], 12);
}
