//! Dependencies the fixes need: a line in `requirements.txt` (or an entry
//! in `pyproject.toml`'s `[project] dependencies`), an entry in
//! `package.json`'s `dependencies`. Each added one is also a manual step
//! (install it).

use super::edit::indent_of;
use super::{app_dir, join, Plan};

/// Add the Python requirement `spec` (`slowapi>=0.1.9`) for the app of `rel`.
pub fn python(plan: &mut Plan, rel: &str, spec: &str, rule: &str) {
    let name = spec
        .split(['>', '=', '<', '~', '[', ' '])
        .next()
        .unwrap_or(spec)
        .to_string();
    let dir = app_dir(plan, rel);
    let requirements = join(&dir, "requirements.txt");
    let pyproject = join(&dir, "pyproject.toml");
    let normal = |s: &str| s.to_ascii_lowercase().replace('_', "-");
    let named = |line: &str| {
        let t = line.trim().trim_matches(['"', '\'', ',']);
        normal(t).starts_with(&normal(&name))
            && t[name.len().min(t.len())..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '-' && c != '_')
    };
    if plan.exists(&requirements) || !plan.exists(&pyproject) {
        let Some(doc) = plan.doc(&requirements) else {
            return;
        };
        if !doc.lines().iter().any(|l| named(l)) && !doc.contains(spec) {
            doc.append([spec.to_string()]);
            plan.change(&requirements, rule, format!("added {spec}"));
        }
        plan.manual
            .deps
            .insert(format!("pip install -r {requirements}"));
        return;
    }
    let Some(doc) = plan.doc(&pyproject) else {
        return;
    };
    let lines = doc.lines().to_vec();
    let Some(start) = lines
        .iter()
        .position(|l| l.trim_start().starts_with("dependencies = ["))
    else {
        plan.manual
            .deps
            .insert(format!("pip install '{spec}' (add it to {pyproject})"));
        return;
    };
    let end = (start..lines.len()).find(|&i| lines[i].contains(']'));
    if (start..=end.unwrap_or(start))
        .any(|i| named(&lines[i]) || lines[i].contains(&format!("\"{name}")))
    {
        return;
    }
    match end {
        Some(end) if end > start => {
            let indent = indent_of(&lines[start + 1]).to_string();
            let indent = if indent.is_empty() {
                "    ".to_string()
            } else {
                indent
            };
            doc.insert_before(end, [format!("{indent}\"{spec}\",")]);
        }
        _ => {
            let line = doc.line(start).to_string();
            let new = match line.trim_end().strip_suffix("[]") {
                Some(head) => format!("{head}[\"{spec}\"]"),
                None => line.replacen('[', &format!("[\"{spec}\", "), 1),
            };
            doc.replace(start, new);
        }
    }
    plan.change(&pyproject, rule, format!("added {spec}"));
    plan.manual.deps.insert(format!("pip install '{spec}'"));
}

/// Add `name: version` to the `dependencies` of the nearest `package.json`.
pub fn npm(plan: &mut Plan, rel: &str, name: &str, version: &str, rule: &str) {
    let dir = app_dir(plan, rel);
    let path = join(&dir, "package.json");
    let install = match dir.is_empty() {
        true => "npm install".to_string(),
        false => format!("npm install (in {dir}/)"),
    };
    let Some(doc) = plan.doc(&path) else { return };
    if doc.is_new() {
        plan.manual
            .deps
            .insert(format!("npm install {name}@{version}"));
        return;
    }
    if doc.contains(&format!("\"{name}\"")) {
        return;
    }
    let lines = doc.lines().to_vec();
    let entry = format!("\"{name}\": \"{version}\"");
    if let Some(i) = lines
        .iter()
        .position(|l| l.trim_start().starts_with("\"dependencies\""))
    {
        let line = &lines[i];
        if line.trim_end().ends_with('{') {
            let next = lines.get(i + 1).map(String::as_str).unwrap_or("");
            let indent = indent_of(next).to_string();
            let comma = if next.trim_start().starts_with('}') {
                ""
            } else {
                ","
            };
            doc.insert_before(i + 1, [format!("{indent}{entry}{comma}")]);
        } else if line.contains("{}") {
            doc.replace(i, line.replacen("{}", &format!("{{ {entry} }}"), 1));
        } else {
            plan.manual
                .deps
                .insert(format!("npm install {name}@{version}"));
            return;
        }
    } else {
        let Some(open) = lines.iter().position(|l| l.trim() == "{") else {
            plan.manual
                .deps
                .insert(format!("npm install {name}@{version}"));
            return;
        };
        let unit = lines
            .get(open + 1)
            .map(|l| indent_of(l).to_string())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "  ".into());
        doc.insert_before(
            open + 1,
            [format!("{unit}\"dependencies\": {{ {entry} }},")],
        );
    }
    plan.change(&path, rule, format!("added {name}"));
    plan.manual.deps.insert(install);
}
