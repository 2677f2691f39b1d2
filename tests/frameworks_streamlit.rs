//! Streamlit (issue 17 item 7): one endpoint per app script, its
//! module-level code the handler, authenticated only by a login gate that
//! stops the script (or holds the AI call), limited only by a limiter it
//! calls.

mod common;

use common::*;
use serde_json::Value;

fn inventory(fixture: &str) -> Value {
    fixture_inventory(fixture)
}

fn auth(json: &Value, path: &str) -> Vec<String> {
    evidence_lines(endpoint_at(json, path), "auth")
}

fn limits(json: &Value, path: &str) -> usize {
    endpoint_at(json, path)["rate_limits"]
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn each_script_is_one_endpoint_with_no_auth_or_limit() {
    let json = inventory("streamlit-unprotected");
    assert_eq!(
        endpoint_routes(&json),
        [
            ("UI".to_string(), "/".to_string(), true),
            ("UI".to_string(), "/Summarize".to_string(), true),
        ]
    );
    let chat = endpoint_at(&json, "/");
    assert_eq!(chat["framework"], "Streamlit");
    assert_eq!(chat["handler"], "<module>");
    assert_eq!(chat["file"], "app.py");
    assert_eq!(chat["line"], 14, "the st.chat_input line");
    assert_eq!(chat["ai"]["line"], 17);
    assert_eq!(auth(&json, "/"), Vec::<String>::new());
    assert_eq!(limits(&json, "/"), 0);
    let page = endpoint_at(&json, "/Summarize");
    assert_eq!(page["file"], "pages/1_📝_Summarize.py");
    assert_eq!(page["ai"]["path"], "summarizer.py");
    // The API-key gate is no login; the login button alone checks nothing.
    assert_eq!(
        auth(&json, "/Summarize"),
        ["unchecked: st.login offered, no gate stops the script without a user"]
    );
    assert!(
        json["unlinked_ai_calls"].as_array().unwrap().is_empty(),
        "{json}"
    );
}

#[test]
fn login_gates_authenticate_and_a_called_limiter_limits() {
    let json = inventory("streamlit-protected");
    assert_eq!(
        auth(&json, "/"),
        ["enforced: if not st.user.is_logged_in: … stops the script"]
    );
    assert_eq!(limits(&json, "/"), 1);
    assert_eq!(
        auth(&json, "/Draft"),
        ["enforced: if st.session_state[\"authentication_status\"]: holds the AI call"]
    );
    assert_eq!(
        auth(&json, "/Rewrite"),
        ["enforced: if not check_password(): … stops the script"]
    );
    assert_eq!(limits(&json, "/Draft"), 0);
    assert_eq!(limits(&json, "/Rewrite"), 0);
}

const CHAT: &str = "import streamlit as st\nfrom openai import OpenAI\n\nclient = OpenAI()\n\n\ndef reply(prompt):\n    return client.responses.create(model=\"gpt-4o-mini\", input=prompt, max_output_tokens=200).output_text\n\n\ndef main():\n    st.title(\"Chat\")\n    if prompt := st.chat_input():\n        st.write(reply(prompt))\n\n\nif __name__ == \"__main__\":\n    main()\n";

#[test]
fn navigation_pages_and_a_main_function() {
    let dir = write_project(&[
        (
            "streamlit_app.py",
            "import streamlit as st\n\npg = st.navigation([st.Page(\"views/home.py\", default=True), st.Page(\"views/chat.py\", url_path=\"ask\", title=\"Ask\"), st.Page(\"views/late.py\")])\npg.run()\n",
        ),
        ("views/home.py", "import streamlit as st\n\nst.title(\"Home\")\n"),
        ("views/chat.py", CHAT),
        (
            "views/late.py",
            // A gate after the AI call protects nothing.
            "import streamlit as st\nfrom openai import OpenAI\n\nclient = OpenAI()\nq = st.text_input(\"Question\")\nif q:\n    st.write(client.responses.create(model=\"gpt-4o-mini\", input=q, max_output_tokens=100).output_text)\nif not st.user.is_logged_in:\n    st.stop()\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        [
            // The navigation script itself (no AI call); `views/home.py`
            // neither calls nor imports AI, so it is not parsed.
            ("UI".to_string(), "/".to_string(), false),
            ("UI".to_string(), "/ask".to_string(), true),
            ("UI".to_string(), "/late".to_string(), true),
        ]
    );
    // `if __name__ == "__main__": main()` → main → reply → the AI call.
    assert_eq!(endpoint_at(&json, "/ask")["ai"]["line"], 8);
    assert_eq!(auth(&json, "/late"), Vec::<String>::new());
}

#[test]
fn a_variable_holding_the_login_state_is_a_gate_and_a_class_method_page_is_none() {
    let dir = write_project(&[
        (
            "main.py",
            "import streamlit as st\nfrom openai import OpenAI\n\nclient = OpenAI()\nauth_state = st.session_state.get(\"authentication_status\")\nif auth_state is None:\n    st.warning(\"Please log in\")\nelse:\n    q = st.chat_input()\n    if q:\n        st.write(client.responses.create(model=\"gpt-4o-mini\", input=q, max_output_tokens=100).output_text)\n",
        ),
        (
            // Streamlit only inside a class, run under `__main__` as a test:
            // not a page.
            "agents/planner.py",
            "import streamlit as st\nfrom openai import OpenAI\n\n\nclass Planner:\n    def run(self, task):\n        with st.spinner(\"Planning...\"):\n            return OpenAI().responses.create(model=\"gpt-4o-mini\", input=task, max_output_tokens=100).output_text\n\n\nif __name__ == \"__main__\":\n    Planner().run(\"plan a trip\")\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        [("UI".to_string(), "/".to_string(), true)]
    );
    assert_eq!(
        auth(&json, "/"),
        ["enforced: if auth_state is None: holds the AI call"]
    );
}

#[test]
fn a_widget_callback_is_reached_from_the_script() {
    let dir = write_project(&[(
        "app.py",
        "import streamlit as st\nfrom openai import OpenAI\n\nclient = OpenAI()\n\n\ndef generate():\n    st.session_state.answer = client.responses.create(model=\"gpt-4o-mini\", input=st.session_state.q, max_output_tokens=100).output_text\n\n\nst.text_input(\"Question\", key=\"q\")\nst.button(\"Ask\", on_click=generate)\nst.write(st.session_state.get(\"answer\", \"\"))\n",
    )]);
    let json = inventory_json(dir.path());
    let e = endpoint_at(&json, "/");
    assert_eq!(e["ai"]["line"], 8, "{e}");
    assert!(
        json["unlinked_ai_calls"].as_array().unwrap().is_empty(),
        "{json}"
    );
}
