//! Streamlit: an app script runs top to bottom again on every interaction
//! of a user (a chat message, a button), over the app's WebSocket, so one
//! script is one endpoint: method `UI` (no HTTP route: anyone who can open
//! the page can run it), path `/` for the main script, the page's URL for a
//! multipage app (`pages/1_💬_Chat.py` → `/Chat`, `st.Page("chat.py",
//! url_path="ask")` → `/ask`). A script is a Python file that imports
//! `streamlit`, draws with it, and that no project file imports (helpers
//! imported by the app are not run by `streamlit run`).
//!
//! Its handler is the script's module-level code: the facts make it a
//! function named [`SCRIPT_SCOPE`] (`src/facts/python.rs`), so the generic
//! inventory links it to the AI calls it makes or reaches through the
//! functions it calls, and reads limits and in-handler auth in it as in any
//! handler.
//!
//! Auth: a login gate at module level, an `if` whose condition names the
//! login state (`rules/protections.toml` `script_gates`) and that stops the
//! script before the AI call (`if not st.user.is_logged_in: st.login();
//! st.stop()`, `if not check_password(): st.stop()`) or holds the AI call
//! (`if st.session_state["authentication_status"]: …`). A login offered
//! with no gate (`st.login`, `authenticator.login()`) checks nothing. No
//! rate limit of its own. Widget callbacks (`st.button(on_click=f)`) count
//! as calls of the script (the facts add them). Gap: gates inside a
//! `main()` the script calls are not read.

use std::collections::{HashMap, HashSet};

use super::{kwarg, unquote, Family, Framework};
use crate::facts::{FileFacts, FnRef, ProjectFacts, SCRIPT_SCOPE};
use crate::inventory::auth::{last, named, AuthContext};
use crate::inventory::{AuthEvidence, AuthKind, Endpoint};

pub struct Streamlit;

const FRAMEWORKS: &[Framework] = &[Framework::Streamlit];

/// The method of a Streamlit endpoint: a page whose script reruns on every
/// interaction, not an HTTP route.
const METHOD: &str = "UI";

/// Input widgets: where a user's interaction enters the script (the
/// endpoint's line is the first one).
const INPUTS: &[&str] = &[
    "chat_input",
    "text_input",
    "text_area",
    "button",
    "form_submit_button",
    "file_uploader",
    "audio_input",
    "camera_input",
];

impl Family for Streamlit {
    fn frameworks(&self) -> &'static [Framework] {
        FRAMEWORKS
    }

    fn project_endpoints(&self, facts: &ProjectFacts, out: &mut Vec<Endpoint>) {
        let scripts: Vec<(usize, String, usize)> = facts
            .files()
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some((i, streamlit_module(f)?, script_scope(f)?)))
            .collect();
        if scripts.is_empty() {
            return;
        }
        let imported = imported_files(facts);
        let pages = declared_pages(facts);
        for (index, st, scope) in scripts {
            let file = facts.file(index);
            let prefix = format!("{st}.");
            let draws: Vec<_> = file
                .calls
                .iter()
                .filter(|c| c.callee.starts_with(&prefix))
                .collect();
            let page = script_draws(file, scope, &draws);
            if !page || imported.contains(&index) {
                continue;
            }
            // The chat input, else the first input widget, of the script
            // itself rather than of a function it defines.
            let scoped = |c: &&&crate::facts::Call| c.in_function == Some(scope);
            let input = |c: &&&crate::facts::Call| INPUTS.contains(&last(&c.callee));
            let chat = |c: &&&crate::facts::Call| last(&c.callee) == INPUTS[0];
            let line = draws
                .iter()
                .find(|c| scoped(c) && chat(c))
                .or_else(|| draws.iter().find(|c| scoped(c) && input(c)))
                .or_else(|| draws.iter().find(input))
                .or(draws.first())
                .map_or(1, |c| c.line);
            let path = pages
                .get(&index)
                .cloned()
                .unwrap_or_else(|| page_path(&file.path));
            out.push(Endpoint::new(
                Framework::Streamlit,
                METHOD.into(),
                path,
                index,
                line,
                Some(FnRef {
                    file: index,
                    function: scope,
                }),
                &st,
            ));
        }
    }

    fn declared_auth(&self, cx: &AuthContext<'_>, endpoints: &mut [&mut Endpoint]) {
        for e in endpoints.iter_mut() {
            let found = login_gate(cx, e);
            e.auth.extend(found);
        }
    }
}

/// Does the script draw a page: a Streamlit call in its module-level code,
/// or in a function of the file that code calls (`main()`)? A module that
/// only uses Streamlit inside classes it never runs as a page (an agent
/// with `st.spinner` in a method, run as a test under `__main__`) does not.
fn script_draws(file: &FileFacts, scope: usize, draws: &[&crate::facts::Call]) -> bool {
    let called: HashSet<usize> = file
        .calls
        .iter()
        .filter(|c| c.in_function == Some(scope) && !c.callee.contains('.'))
        .filter_map(|c| {
            file.functions
                .iter()
                .position(|f| f.name == c.callee && f.parent.is_none())
        })
        .collect();
    draws.iter().any(|c| {
        c.in_function
            .is_some_and(|f| f == scope || called.contains(&f))
    })
}

/// The local name of the streamlit module (`import streamlit as st`).
fn streamlit_module(file: &FileFacts) -> Option<String> {
    file.imports
        .iter()
        .find(|i| i.module == "streamlit" && i.name.is_none())
        .map(|i| i.local.clone())
}

/// The function standing for the script's module-level code.
fn script_scope(file: &FileFacts) -> Option<usize> {
    file.functions
        .iter()
        .rposition(|f| f.name == SCRIPT_SCOPE && f.parent.is_none())
}

/// Files some project file imports.
fn imported_files(facts: &ProjectFacts) -> HashSet<usize> {
    let mut out = HashSet::new();
    for (fi, file) in facts.files().iter().enumerate() {
        for import in &file.imports {
            if let Some(target) = facts.resolve_import(fi, import).filter(|t| *t != fi) {
                out.insert(target);
            }
        }
    }
    out
}

/// Pages declared with `st.Page("chat.py", url_path="ask")` (the new
/// navigation): file → URL path (`url_path`, else the file's name).
fn declared_pages(facts: &ProjectFacts) -> HashMap<usize, String> {
    let mut out = HashMap::new();
    for file in facts.files() {
        let Some(st) = streamlit_module(file) else {
            continue;
        };
        let page = format!("{st}.Page");
        let dir = file.path.rsplit_once('/').map_or("", |(d, _)| d);
        for call in file.calls.iter().filter(|c| c.callee == page) {
            let Some(target) = call.args.first().and_then(|a| unquote(&a.text)) else {
                continue;
            };
            let target = target.trim_start_matches("./");
            let full = if dir.is_empty() {
                target.to_string()
            } else {
                format!("{dir}/{target}")
            };
            let Some(index) = facts.index_of(&full).or_else(|| facts.index_of(target)) else {
                continue;
            };
            let url = kwarg(call, "url_path")
                .and_then(|a| unquote(&a.text))
                .unwrap_or_else(|| stem(target).to_string());
            let default = kwarg(call, "default").is_some_and(|a| a.text == "True");
            let path = if default {
                "/".to_string()
            } else {
                format!("/{}", url.trim_matches('/'))
            };
            out.insert(index, path);
        }
    }
    out
}

fn stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".py").unwrap_or(name)
}

/// `/` for the main script; a page of `pages/` is served at its name
/// without the ordering number and icon (`pages/1_💬_Chat.py` → `/Chat`).
fn page_path(path: &str) -> String {
    let in_pages = path
        .rsplit_once('/')
        .is_some_and(|(dir, _)| dir == "pages" || dir.ends_with("/pages"));
    if !in_pages {
        return "/".into();
    }
    let name = stem(path)
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start_matches(|c: char| !c.is_alphanumeric());
    format!("/{name}")
}

/// The module-level login gate in front of the script's AI call, or the
/// login it offers without one.
fn login_gate(cx: &AuthContext<'_>, e: &Endpoint) -> Option<AuthEvidence> {
    let h = e.handler?;
    let file = cx.facts.file(e.file);
    let ai_line = ai_line(cx.facts, e, h);
    let gates = &cx.spec.script_gates;
    let names_gate = |text: &str| gates.iter().any(|g| text.contains(g.as_str()));
    // `auth_state = st.session_state["authentication_status"]`, then `if
    // auth_state is None: …`: the variable stands for the login state.
    let state_vars: Vec<&str> = file
        .assignments
        .iter()
        .filter(|a| a.in_function.is_none() && names_gate(&a.text))
        .map(|a| a.target.as_str())
        .filter(|t| t.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .collect();
    let is_gate = |condition: &str| {
        names_gate(condition)
            || condition
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| state_vars.contains(&w))
    };
    for gate in file.top_level_ifs.iter().filter(|g| is_gate(&g.condition)) {
        let stops_before = gate.leaves && ai_line.is_none_or(|ai| gate.line < ai);
        let holds = ai_line.is_some_and(|ai| gate.line <= ai && ai <= gate.end_line);
        if stops_before || holds {
            let how = if stops_before {
                format!("if {}: … stops the script", gate.condition)
            } else {
                format!("if {}: holds the AI call", gate.condition)
            };
            return Some(AuthEvidence {
                kind: AuthKind::Enforced,
                how,
                line: gate.line,
            });
        }
    }
    let logins = &cx.spec.script_logins;
    let (line, login) = file
        .calls
        .iter()
        .filter(|c| c.in_function == Some(h.function))
        .find_map(|c| {
            if named(logins, &c.callee) {
                return Some((c.line, format!("{}()", c.callee)));
            }
            // `st.button("Log in", on_click=st.login)`
            c.args
                .iter()
                .find(|a| logins.contains(&a.text))
                .map(|a| (c.line, a.text.clone()))
        })?;
    Some(AuthEvidence {
        kind: AuthKind::Unchecked,
        how: format!("{login} offered, no gate stops the script without a user"),
        line,
    })
}

/// The line of the script's module-level code that leads to its AI call.
fn ai_line(facts: &ProjectFacts, e: &Endpoint, h: FnRef) -> Option<u32> {
    let chain = e.reaches.as_ref()?;
    match chain.functions.get(1).copied() {
        None => Some(facts.call(chain.call).line),
        Some(callee) => facts
            .file(h.file)
            .calls
            .iter()
            .filter(|c| c.in_function == Some(h.function))
            .find(|c| facts.resolve_call(h.file, c) == Some(callee))
            .map(|c| c.line),
    }
}

#[cfg(test)]
mod tests {
    use super::page_path;

    #[test]
    fn pages_are_served_at_their_name() {
        assert_eq!(page_path("app.py"), "/");
        assert_eq!(page_path("chat/streamlit_app.py"), "/");
        assert_eq!(page_path("pages/1_💬_Chat.py"), "/Chat");
        assert_eq!(page_path("app/pages/02_Summarize.py"), "/Summarize");
        assert_eq!(page_path("pages/About.py"), "/About");
    }
}
