//! Gradio: every function an interface or an event listener runs is an
//! endpoint of the app's HTTP API (`/gradio_api/call/<name>`, callable by
//! any client, not only the page): `gr.Interface(fn=…)`,
//! `gr.ChatInterface(fn)`, and in `gr.Blocks`, `btn.click(fn, …)`,
//! `msg.submit(…)`, `.change(…)`, `.then(…)`, also with their arguments
//! spread from a dictionary (`btn.click(**predict_args)`). The name is the
//! listener's `api_name`, else the function's; a function several
//! listeners run is one endpoint. The function may be defined in the file
//! or imported (`from ui.handlers import *` too).
//!
//! Auth: `launch(auth=…)` (a password list or a checker function) or
//! `auth_dependency=` on `launch` / `gr.mount_gradio_app`; not `auth=f if
//! flag else None` (off unless configured). A queue or a
//! concurrency limit bounds parallel work, not requests per user: no rate
//! limit. Gap: listeners whose function is a `lambda` reach nothing
//! (lambdas are not functions in the facts).

use std::collections::HashMap;

use super::{kwarg, unquote, Family, Framework};
use crate::facts::{Call, FileFacts, FnRef, ProjectFacts};
use crate::inventory::auth::AuthContext;
use crate::inventory::{AuthEvidence, AuthKind, Endpoint};

pub struct Gradio;

const FRAMEWORKS: &[Framework] = &[Framework::Gradio];

/// Constructors that take the function first (`fn=`).
const INTERFACES: &[&str] = &["Interface", "ChatInterface", "TabbedInterface"];

/// Event listeners of components (`btn.click(fn, inputs, outputs)`).
const LISTENERS: &[&str] = &[
    "click", "submit", "change", "input", "select", "upload", "then", "success", "like", "retry",
    "stream", "release", "blur", "focus",
];

impl Family for Gradio {
    fn frameworks(&self) -> &'static [Framework] {
        FRAMEWORKS
    }

    fn project_endpoints(&self, facts: &ProjectFacts, out: &mut Vec<Endpoint>) {
        for (index, file) in facts.files().iter().enumerate() {
            let Some(gr) = gradio_module(file) else {
                continue;
            };
            // One endpoint per name: a function several listeners run is
            // one API route to an attacker (Gradio numbers the others).
            let mut seen = std::collections::HashSet::new();
            for call in &file.calls {
                let Some(target) = listener_function(file, &gr, call) else {
                    continue;
                };
                let name = kwarg(call, "api_name")
                    .and_then(|a| unquote(&a.text))
                    .or_else(|| splat_value(file, call, "api_name").and_then(|t| unquote(&t)))
                    .unwrap_or_else(|| target.clone());
                if !seen.insert(name.clone()) {
                    continue;
                }
                out.push(Endpoint::new(
                    Framework::Gradio,
                    "POST".into(),
                    format!("/gradio_api/call/{name}"),
                    index,
                    call.line,
                    function_of(facts, index, &target),
                    &gr,
                ));
            }
        }
    }

    fn declared_auth(&self, cx: &AuthContext<'_>, endpoints: &mut [&mut Endpoint]) {
        let mut by_file: HashMap<usize, Option<AuthEvidence>> = HashMap::new();
        for e in endpoints.iter_mut() {
            let auth = by_file
                .entry(e.file)
                .or_insert_with(|| launch_auth(cx.facts.file(e.file)));
            e.auth.extend(auth.clone());
        }
    }
}

/// The local name of the gradio module (`import gradio as gr`), if the
/// file imports it.
fn gradio_module(file: &FileFacts) -> Option<String> {
    file.imports
        .iter()
        .find(|i| i.module == "gradio" && i.name.is_none())
        .map(|i| i.local.clone())
}

/// The function name an interface or listener call runs, if it is one:
/// `fn=`, the first positional argument, or `fn=` in the dictionary
/// spread into it (`btn.click(**predict_args)`).
fn listener_function(file: &FileFacts, gr: &str, call: &Call) -> Option<String> {
    let (object, method) = call.callee.rsplit_once('.')?;
    let is_interface = object == gr && INTERFACES.contains(&method);
    // A listener: on a component variable, one made in place
    // (`gr.Button("Go").click(…)`) or another listener (`.submit(…).then(…)`),
    // not on the result of another call.
    let component = !object.contains('(')
        || object.starts_with(&format!("{gr}."))
        || LISTENERS
            .iter()
            .any(|l| object.ends_with(&format!(".{l}()")));
    let is_listener = object != gr && LISTENERS.contains(&method) && component;
    if !is_interface && !is_listener {
        return None;
    }
    let text = kwarg(call, "fn")
        .or_else(|| {
            call.args
                .first()
                .filter(|a| a.keyword.is_none() && !a.text.starts_with('*'))
        })
        .map(|a| a.text.trim().to_string())
        .or_else(|| splat_value(file, call, "fn"))?;
    let name = text.rsplit('.').next().unwrap_or(&text);
    let plain = !name.is_empty()
        && !name.starts_with(char::is_numeric)
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    plain.then(|| name.to_string())
}

/// `key` of the dictionary spread into `call` (`**args` where `args =
/// dict(fn=predict, …)` or `{"fn": predict, …}` in the file).
fn splat_value(file: &FileFacts, call: &Call, key: &str) -> Option<String> {
    let spread = call.args.iter().find_map(|a| a.text.strip_prefix("**"))?;
    let spread = spread.trim();
    let dict = file.assignments.iter().rev().find(|a| a.target == spread)?;
    let text = dict.text.as_str();
    for form in [
        format!("{key}="),
        format!("\"{key}\":"),
        format!("'{key}':"),
    ] {
        let mut from = 0;
        while let Some(at) = text[from..].find(&form) {
            let start = from + at;
            from = start + form.len();
            // A whole key: `fn=`, not `on_fn=`.
            let before = text[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let value: String = text[from..]
                .trim_start()
                .chars()
                .take_while(|c| !matches!(c, ',' | ')' | '}' | '\n'))
                .collect();
            return Some(value.trim().to_string());
        }
    }
    None
}

/// The project function `name` names in file `index`, resolved as a call
/// to it would be (defined there, imported, or brought by `import *`).
fn function_of(facts: &ProjectFacts, index: usize, name: &str) -> Option<FnRef> {
    let call = Call {
        callee: name.to_string(),
        ..Call::default()
    };
    facts.resolve_call(index, &call)
}

/// Password or dependency auth given to `launch` / `mount_gradio_app`.
fn launch_auth(file: &FileFacts) -> Option<AuthEvidence> {
    file.calls.iter().find_map(|c| {
        let last = c.callee.rsplit('.').next().unwrap_or(&c.callee);
        if !matches!(last, "launch" | "mount_gradio_app") {
            return None;
        }
        // `auth=check if settings.auth else None`: off unless configured,
        // so not auth of the app as it runs by default.
        let how = ["auth", "auth_dependency"].into_iter().find(|k| {
            kwarg(c, k).is_some_and(|a| {
                let t = a.text.trim();
                !matches!(t, "None" | "" | "[]" | "()") && !t.ends_with("else None")
            })
        })?;
        Some(AuthEvidence {
            kind: AuthKind::Enforced,
            how: format!("{}({how}=…)", c.callee),
            line: c.line,
        })
    })
}
