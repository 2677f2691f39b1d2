//! `aiguard inventory` as text: every endpoint with the AI call it reaches
//! (and the chain of calls that gets there) and the rate limits covering it.
//! The first question of every review: where are the AI calls, and is rate
//! limiting already there?

use std::io::{self, Write};

use crate::inventory::InventoryView;

pub fn write(inv: &InventoryView, out: &mut dyn Write) -> io::Result<()> {
    let frameworks = if inv.frameworks.is_empty() {
        "none found".to_string()
    } else {
        inv.frameworks.join(", ")
    };
    writeln!(out, "frameworks: {frameworks}")?;
    writeln!(
        out,
        "{} endpoints, {} reach an AI call; {} AI call sites\n",
        inv.endpoints.len(),
        inv.ai_endpoints,
        inv.ai_call_sites
    )?;
    if !inv.usage_tracking.is_empty() {
        writeln!(out, "per-user usage tracking:")?;
        for u in &inv.usage_tracking {
            writeln!(out, "    {}: {} ({}:{})", u.kind, u.detail, u.path, u.line)?;
        }
        writeln!(out)?;
    }
    if !inv.ai_calls.is_empty() {
        writeln!(out, "AI call sites:")?;
        for c in &inv.ai_calls {
            let (provider, callee) = c.detail.rsplit_once(' ').unwrap_or(("", &c.detail));
            let label = format!("{provider} `{callee}` at {}:{}", c.path, c.line);
            writeln!(out, "    {label}")?;
            for l in inv.ai_call_loops.iter().filter(|l| l.call == label) {
                let via = l
                    .via
                    .as_deref()
                    .map(|v| format!(" via {v}"))
                    .unwrap_or_default();
                let bound = match &l.bound {
                    Some(b) => format!("bounded: {b}"),
                    None => "UNBOUNDED".to_string(),
                };
                writeln!(out, "        in {} at {}{via}: {bound}", l.kind, l.at)?;
            }
        }
        writeln!(out)?;
    }
    if !inv.unlinked_ai_calls.is_empty() {
        writeln!(
            out,
            "AI call sites no endpoint reaches ({}; scripts, workers, or routes aiguard does not see):",
            inv.unlinked_ai_calls.len()
        )?;
        for c in &inv.unlinked_ai_calls {
            let (provider, callee) = c.detail.rsplit_once(' ').unwrap_or(("", &c.detail));
            writeln!(out, "    {provider} `{callee}` at {}:{}", c.path, c.line)?;
        }
        writeln!(out)?;
    }
    for e in &inv.endpoints {
        let handler = e
            .handler
            .as_deref()
            .map(|h| format!(" → {h}"))
            .unwrap_or_default();
        writeln!(
            out,
            "{} {}  ({}, {}:{}{handler})",
            e.method, e.path, e.framework, e.file, e.line
        )?;
        match &e.ai {
            Some(ai) => {
                writeln!(
                    out,
                    "    AI: {} `{}` at {}:{}",
                    ai.provider, ai.call, ai.path, ai.line
                )?;
                if ai.chain.len() > 1 {
                    let via: Vec<String> = ai
                        .chain
                        .iter()
                        .map(|f| format!("{} ({}:{})", f.detail, f.path, f.line))
                        .collect();
                    writeln!(out, "        via {}", via.join(" → "))?;
                }
            }
            None => writeln!(out, "    AI: none")?,
        }
        if e.rate_limits.is_empty() {
            let warn = if e.ai.is_some() { "NONE" } else { "none" };
            writeln!(out, "    rate limit: {warn}")?;
        }
        for l in &e.rate_limits {
            writeln!(out, "    rate limit: {} ({}:{})", l.detail, l.path, l.line)?;
        }
        if e.ai.is_some() {
            if e.auth.is_empty() {
                writeln!(out, "    auth: NONE")?;
            }
            for a in &e.auth {
                writeln!(out, "    auth: {}: {} (line {})", a.kind, a.detail, a.line)?;
            }
            for q in &e.quota {
                let what = match q.kind.as_str() {
                    "client-chosen" => format!("client chooses {}", q.detail),
                    _ => format!(
                        "no output token bound on the AI call at {}:{}",
                        q.path, q.line
                    ),
                };
                writeln!(out, "    quota: {what}")?;
            }
        }
    }
    Ok(())
}
