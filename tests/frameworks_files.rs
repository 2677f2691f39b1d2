//! Frameworks that route by file (issue 17 item 4): SvelteKit, Astro,
//! Nuxt/Nitro and Remix endpoints, with method and full path.

mod common;

use common::*;

#[test]
fn file_routed_endpoints_have_their_paths_methods_and_protections() {
    let dir = materialize("file-routes");
    let run = aiguard(&["inventory", ".", "--format", "json"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("inventory JSON");
    let mut seen: Vec<(String, String, String, bool, usize, usize)> = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["framework"].as_str().unwrap().to_string(),
                e["method"].as_str().unwrap().to_string(),
                e["path"].as_str().unwrap().to_string(),
                !e["ai"].is_null(),
                e["rate_limits"].as_array().unwrap().len(),
                e["auth"].as_array().unwrap().len(),
            )
        })
        .collect();
    seen.sort();
    let want = |f: &str, m: &str, p: &str, ai: bool, limits: usize, auth: usize| {
        (
            f.to_string(),
            m.to_string(),
            p.to_string(),
            ai,
            limits,
            auth,
        )
    };
    let mut expected = vec![
        want("Astro", "POST", "/api/ask", true, 1, 1),
        want("Astro", "POST", "/api/chat", true, 0, 0),
        want("Nuxt", "POST", "/api/ask", true, 1, 1),
        want("Nuxt", "POST", "/api/chat", true, 0, 0),
        want("Remix", "GET", "/api/ask", false, 0, 0),
        want("Remix", "POST", "/api/ask", true, 1, 1),
        want("Remix", "POST", "/api/chat", true, 0, 0),
        want("SvelteKit", "GET", "/api/ask", false, 0, 0),
        want("SvelteKit", "POST", "/api/ask", true, 1, 1),
        want("SvelteKit", "POST", "/api/chat", true, 0, 0),
    ];
    expected.sort();
    assert_eq!(seen, expected);
}
