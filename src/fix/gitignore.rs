//! env-gitignore: add `.env`, `.env.*` and `!.env.example` to the
//! `.gitignore` that covers the affected folders (the outermost one: a
//! root line covers every folder below), and untrack committed `.env*`
//! files (`git rm --cached`: the file stays on disk).

use super::{parent, Ctx, Plan};
use crate::findings::Finding;

pub fn fix(ctx: &Ctx, plan: &mut Plan, f: &Finding, all: &[&Finding]) {
    match f.rule.as_str() {
        "env-tracked" => {
            plan.untrack.insert(f.path.clone());
            plan.manual.rotate.insert(format!(
                "every key in {} (it is in the git history)",
                f.path
            ));
        }
        "env-gitignore-gap" => {
            let dir = parent(&f.path);
            // An outer gap fixed in the same run covers this folder.
            let covered = all.iter().any(|g| {
                g.rule == "env-gitignore-gap" && {
                    let other = parent(&g.path);
                    other != dir && (other.is_empty() || dir.starts_with(&format!("{other}/")))
                }
            });
            if !covered {
                add_lines(ctx, plan, &f.path);
            }
        }
        // Not ignored and no gap reported for its folder: the root covers it.
        "env-not-ignored" => {
            let gap = all.iter().any(|g| {
                g.rule == "env-gitignore-gap" && {
                    let dir = parent(&g.path);
                    dir.is_empty() || f.path.starts_with(&format!("{dir}/"))
                }
            });
            if !gap {
                add_lines(ctx, plan, ".gitignore");
            }
        }
        _ => super::manual(ctx, plan, f),
    }
}

fn add_lines(ctx: &Ctx, plan: &mut Plan, path: &str) {
    let Some(doc) = plan.doc(path) else { return };
    let missing: Vec<String> = ctx
        .templates
        .gitignore
        .lines
        .iter()
        .filter(|want| !doc.has_line(want))
        .cloned()
        .collect();
    if missing.is_empty() {
        return;
    }
    let what = format!("ignored {}", missing.join(" "));
    doc.append(missing);
    plan.change(path, "env-gitignore-gap", what);
}
