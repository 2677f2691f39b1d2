//! Quota evidence per AI endpoint: does the caller pick the cost (`model`
//! or a token bound taken from the request without a cap or allowlist), is
//! the output unbounded, and does the project track usage per user at all
//! (credits/usage/quota code, a limiter keyed by user id)?

use serde::Serialize;

use super::Endpoint;
use crate::catalog::{Catalog, QuotaSpec};
use crate::facts::{Call, ProjectFacts};

#[derive(Clone, Debug, Default, Serialize)]
pub struct QuotaEvidence {
    /// Arguments the client controls: `model=body.model`.
    pub client_chosen: Vec<String>,
    /// The AI call sets no output token bound.
    pub unbounded_output: bool,
    /// The AI call's `path:line`.
    pub call_at: String,
    /// A loop over a request-supplied list with no cap, one AI call per
    /// item (issue 21): `one AI call per item of `body.prompts` (…)`.
    pub fan_out: Option<String>,
}

/// One piece of per-user usage tracking the inventory accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsageEvidence {
    /// `store-write` (a DB/Redis write of usage per user), `budget-check`
    /// (a call checking or spending a user's budget), `limit-by-user`.
    pub kind: &'static str,
    pub path: String,
    pub line: u32,
    /// The call as written: `db.user.update`, `checkCredits`.
    pub detail: String,
}

/// Per-user usage tracking anywhere in the project: storing or checking
/// usage per user, not logging it or reading `completion.usage`.
pub(super) fn collect_usage_tracking(facts: &ProjectFacts, spec: &QuotaSpec) -> Vec<UsageEvidence> {
    let mut out = Vec::new();
    let lower = |words: &[String]| words.iter().map(|w| w.to_lowercase()).collect::<Vec<_>>();
    let (usage, users) = (lower(&spec.usage_words), lower(&spec.user_words));
    // The user words in any ASCII case, for the look below (if the
    // automaton cannot be built, every call is looked at in full).
    let user_words = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&users)
        .ok();
    for file in facts.files() {
        for c in &file.calls {
            // Most calls name no user: a look without copies first (it can
            // skip only a call whose arguments are ASCII and hold no user
            // word in any case, so the lowercased test below says the same).
            let may_name_user = c.args.iter().any(|a| {
                !a.text.is_ascii() || user_words.as_ref().is_none_or(|ac| ac.is_match(&a.text))
            });
            if !may_name_user {
                continue;
            }
            let args: String = c
                .args
                .iter()
                .map(|a| a.text.to_lowercase())
                .collect::<Vec<_>>()
                .join(" ");
            // A user named by code, not in a string (`"role": "user"`).
            let code = strip_strings(&args);
            let names_user = users.iter().any(|u| code.contains(u.as_str()));
            let head = c.callee.split(['.', '(']).next().unwrap_or("");
            if spec.not_tracking.iter().any(|n| n == head) || !names_user {
                continue;
            }
            let last = c.callee.rsplit('.').next().unwrap_or(&c.callee);
            let callee = c.callee.to_lowercase();
            let kind = if callee.ends_with(".limit") {
                Some("limit-by-user")
            } else if c.callee.contains('.')
                && spec.store_writes.iter().any(|w| w == last)
                && usage
                    .iter()
                    .any(|u| args.contains(u.as_str()) || callee.contains(u.as_str()))
            {
                Some("store-write")
            } else if is_budget_check(last, spec, &usage) {
                Some("budget-check")
            } else {
                None
            };
            if let Some(kind) = kind {
                out.push(UsageEvidence {
                    kind,
                    path: file.path.clone(),
                    line: c.line,
                    detail: c.callee.clone(),
                });
            }
        }
    }
    out
}

/// `text` without its quoted strings (template interpolations `${…}` and
/// f-string fields `{…}` are code, and kept).
fn strip_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    for c in text.chars() {
        match quote {
            Some(_) if depth > 0 => {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                out.push(c);
            }
            Some(q) if c == q => quote = None,
            Some(_) if c == '{' => {
                depth = 1;
                out.push(' ');
            }
            Some(_) => {}
            None if matches!(c, '"' | '\'' | '`') => quote = Some(c),
            None => out.push(c),
        }
    }
    out
}

/// `checkCredits`, `consume_tokens_for_user`, `deductCredits`: a verb that
/// checks or spends, then a usage word. React setters (`setUsage`) are not.
fn is_budget_check(name: &str, spec: &QuotaSpec, usage: &[String]) -> bool {
    let lower = name.to_lowercase();
    let verb = spec
        .check_verbs
        .iter()
        .find(|v| lower.starts_with(&v.to_lowercase()));
    let setter = name.starts_with("set") && name[3..].starts_with(|c: char| c.is_ascii_uppercase());
    verb.is_some() && !setter && usage.iter().any(|u| lower.contains(u.as_str()))
}

/// Does `text` hold `word` as a whole identifier?
fn mentions_word(text: &str, word: &str) -> bool {
    !word.is_empty()
        && text.match_indices(word).any(|(i, _)| {
            let before = text[..i].chars().next_back();
            let after = text[i + word.len()..].chars().next();
            let ident =
                |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
            !ident(before) && !ident(after)
        })
}

/// (argument name, value) pairs of an AI call: Python keywords, JS object pairs.
fn arguments(call: &Call) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in &call.args {
        if let Some(k) = &a.keyword {
            out.push((k.clone(), a.text.clone()));
        }
        out.extend(a.pairs.iter().cloned());
    }
    out
}

pub(super) fn evidence(
    e: &Endpoint,
    facts: &ProjectFacts,
    catalog: &Catalog,
) -> Option<QuotaEvidence> {
    let spec = &catalog.quota;
    let chain = e.reaches.as_ref()?;
    let call = facts.call(chain.call);
    let file = facts.file(chain.call.0);
    let args = arguments(call);
    // Argument texts are cut short: an object's pairs are read too (the
    // `body` of a long `fetch` options object).
    let mut all_text: String = call
        .args
        .iter()
        .flat_map(|a| {
            std::iter::once(a.text.as_str()).chain(a.pairs.iter().map(|(_, v)| v.as_str()))
        })
        .collect::<Vec<_>>()
        .join(" ");
    // A body built first and passed by name (`JSON.stringify(payload)`,
    // `json=payload`): its bound counts.
    let built: Vec<&str> = file
        .assignments
        .iter()
        .filter(|a| a.in_function == call.in_function && mentions_word(&all_text, &a.target))
        .map(|a| a.text.as_str())
        .collect();
    for text in built {
        all_text.push(' ');
        all_text.push_str(text);
    }
    // A bound given to the model the call is made on (LangChain:
    // `ChatOpenAI(max_tokens=500)` piped into the chain that is invoked).
    for text in model_texts(facts, chain.call.0, call) {
        all_text.push(' ');
        all_text.push_str(text);
    }
    let bounded = args.iter().any(|(k, _)| spec.token_bounds.contains(k))
        || spec
            .token_bounds
            .iter()
            .any(|b| all_text.contains(b.as_str()));
    // Embeddings, moderation: paid, but no output tokens to bound.
    let side = catalog.calls.is_side_call(&call.callee);
    let from_request = |v: &str| {
        spec.request_words.iter().any(|w| v.contains(w.as_str()))
            && !spec.cap_words.iter().any(|w| v.contains(w.as_str()))
    };
    // A value from the request: read from it here (`body.model`), bound by
    // destructuring it (`const { model } = await req.json()`), or a field of
    // a handler parameter typed by a request model (`chat.model`, `chat: ChatIn`).
    let params: Vec<(&str, &str)> = call
        .in_function
        .map(|f| {
            file.functions[f]
                .params
                .iter()
                .filter_map(|p| p.split_once(':'))
                .map(|(n, t)| (n.trim(), t.trim()))
                .collect()
        })
        .unwrap_or_default();
    let chosen = |v: &str| -> Option<String> {
        if from_request(v) {
            return Some(String::new());
        }
        let head = v.split('.').next().unwrap_or(v).trim();
        if v.contains('.')
            && params.iter().any(|(n, t)| {
                *n == head && t.starts_with(|c: char| c.is_ascii_uppercase()) && *t != "Request"
            })
        {
            return Some(format!(" (a field of the request model `{head}`)"));
        }
        let is_name = !v.is_empty() && v.chars().all(|c| c.is_alphanumeric() || c == '_');
        if !is_name {
            return None;
        }
        file.assignments
            .iter()
            .filter(|a| a.in_function == call.in_function)
            .find(|a| {
                (a.target == v || (a.target.starts_with(['{', '[']) && mentions_word(&a.target, v)))
                    && from_request(&a.text)
            })
            .map(|a| format!(" (from `{}`, line {})", a.text.trim(), a.line))
    };
    let client_chosen = args
        .iter()
        .filter(|(k, _)| k == "model" || spec.token_bounds.contains(k))
        .filter_map(|(k, v)| chosen(v).map(|why| format!("{k}={v}{why}")))
        .collect();
    Some(QuotaEvidence {
        client_chosen,
        unbounded_output: !bounded && !side,
        call_at: format!("{}:{}", facts.file(chain.call.0).path, call.line),
        fan_out: None,
    })
}

/// How many assignments deep [`model_texts`] follows names.
const MODEL_DEPTH: usize = 4;

/// The texts of the assignments that build the object an AI call is made
/// on, following the names they mention: `chain.invoke(…)` ← `chain =
/// prompt | llm` ← `llm = ChatOpenAI(max_tokens=500)`, in the call's file,
/// its class's attributes (`self.llm = …`), and, for an imported name, the
/// file it comes from.
fn model_texts<'f>(facts: &'f ProjectFacts, file_index: usize, call: &Call) -> Vec<&'f str> {
    let mut out = Vec::new();
    let head = call.callee.split(['.', '(']).next().unwrap_or("");
    let mut todo: Vec<(usize, String)> = match head {
        // `self.llm.invoke` / `this.model.call`: the attribute.
        "self" | "this" => call
            .callee
            .split('.')
            .nth(1)
            .map(|attr| vec![(file_index, format!("{head}.{attr}"))])
            .unwrap_or_default(),
        "" => Vec::new(),
        name => vec![(file_index, name.to_string())],
    };
    let mut seen: std::collections::HashSet<(usize, String)> = std::collections::HashSet::new();
    let mut depth = 0;
    while !todo.is_empty() && depth < MODEL_DEPTH {
        depth += 1;
        for (fi, name) in std::mem::take(&mut todo) {
            if !seen.insert((fi, name.clone())) {
                continue;
            }
            let file = facts.file(fi);
            let mut found = false;
            for a in file.assignments.iter().filter(|a| a.target == name) {
                found = true;
                out.push(a.text.as_str());
                for word in identifiers(&a.text) {
                    if word != name {
                        todo.push((fi, word.to_string()));
                    }
                }
            }
            if !found {
                if let Some(target) = file
                    .import_of(&name)
                    .and_then(|i| Some((facts.resolve_import(fi, i)?, i)))
                    .map(|(t, i)| {
                        let wanted = i.name.clone().filter(|n| n != "default").unwrap_or(name);
                        (t, wanted)
                    })
                {
                    todo.push(target);
                }
            }
        }
    }
    out
}

/// The plain identifiers of a text (`prompt | llm.bind(x)` → prompt, llm,
/// bind, x), dotted attribute names kept whole when they start with
/// `self.` / `this.`.
fn identifiers(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &text[start..i];
            if (word == "self" || word == "this") && bytes.get(i) == Some(&b'.') {
                let mut end = i + 1;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                {
                    end += 1;
                }
                out.push(&text[start..end]);
                i = end;
            } else {
                out.push(word);
            }
        } else {
            i += 1;
        }
    }
    out
}
