//! Path helpers below everything that names files (config globs, the walk,
//! reports): one spelling of a project path, `/`-separated and relative to
//! the audited root.

use std::path::Path;

/// `/`-separated path relative to the root.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path).to_string_lossy();
    match std::path::MAIN_SEPARATOR {
        '/' => rel.into_owned(),
        sep => rel.replace(sep, "/"),
    }
}

/// The package a Deno or CDN import specifier names, as a Node import
/// would (`npm:openai@4` → `openai`; `https://esm.sh/@anthropic-ai/sdk@0.9/…`
/// → `@anthropic-ai/sdk/…`; `https://deno.land/x/openai@v4.24.0/mod.ts` →
/// `openai/mod.ts`): Supabase Edge Functions and other Deno code import
/// SDKs this way. `None` when `module` is no such specifier.
pub fn package_specifier(module: &str) -> Option<String> {
    let rest = if let Some(r) = module
        .strip_prefix("npm:")
        .or_else(|| module.strip_prefix("jsr:"))
    {
        r
    } else {
        let url = module
            .strip_prefix("https://")
            .or_else(|| module.strip_prefix("http://"))?;
        let (host, path) = url.split_once('/')?;
        match host {
            "deno.land" => path.strip_prefix("x/")?,
            "esm.sh" | "cdn.skypack.dev" | "cdn.jsdelivr.net" | "unpkg.com" | "esm.run" => {
                path.strip_prefix("npm/").unwrap_or(path)
            }
            _ => return None,
        }
    };
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    // `@scope/name@1.2/sub`, `name@1.2/sub`: the version goes.
    let (scope, rest) = match rest.strip_prefix('@') {
        Some(r) => {
            let (scope, r) = r.split_once('/')?;
            (format!("@{scope}/"), r)
        }
        None => (String::new(), rest),
    };
    let (name, sub) = rest.split_once('/').unwrap_or((rest, ""));
    let name = name.split('@').next().unwrap_or(name);
    if name.is_empty() {
        return None;
    }
    Some(match sub {
        "" => format!("{scope}{name}"),
        sub => format!("{scope}{name}/{sub}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deno_and_cdn_specifiers_name_their_package() {
        let cases = [
            ("npm:openai@4.20.0", Some("openai")),
            ("npm:@anthropic-ai/sdk", Some("@anthropic-ai/sdk")),
            ("jsr:@std/http@1/server", Some("@std/http/server")),
            ("https://esm.sh/openai@4.20.0?target=deno", Some("openai")),
            ("https://esm.sh/@ai-sdk/openai@1", Some("@ai-sdk/openai")),
            (
                "https://deno.land/x/openai@v4.24.0/mod.ts",
                Some("openai/mod.ts"),
            ),
            ("https://cdn.jsdelivr.net/npm/groq-sdk", Some("groq-sdk")),
            ("https://example.com/openai.js", None),
            ("./lib/ai", None),
            ("openai", None),
        ];
        for (module, want) in cases {
            assert_eq!(package_specifier(module).as_deref(), want, "{module}");
        }
    }
}
