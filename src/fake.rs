//! Fake keys for tests, fixtures and benchmarks, so that git never holds
//! key-shaped text: templates such as `sk-proj-{b64url:74}` in
//! `rules/keys.toml` examples, and `{{fake:RULE-ID}}` placeholders in fixture
//! files, are expanded with a seeded generator when a test copies them.

use crate::catalog::KeyRules;

/// Expand `{alnum:N}`, `{b64url:N}`, `{hex:N}`, `{lower:N}`, `{upper:N}`,
/// `{digits:N}`, `{lowernum:N}` with random characters from `rng`.
/// Text that is not a template is kept as is.
pub fn expand(template: &str, rng: &mut fastrand::Rng) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let parsed = after.find('}').and_then(|close| {
            let (class, n) = after[..close].split_once(':')?;
            Some((alphabet(class)?, n.parse::<usize>().ok()?, close))
        });
        match parsed {
            Some((alphabet, n, close)) => {
                out.extend((0..n).map(|_| alphabet[rng.usize(..alphabet.len())] as char));
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn alphabet(class: &str) -> Option<&'static [u8]> {
    Some(match class {
        "alnum" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "b64url" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
        "hex" => b"0123456789abcdef",
        "lower" => b"abcdefghijklmnopqrstuvwxyz",
        "upper" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "digits" => b"0123456789",
        "lowernum" => b"abcdefghijklmnopqrstuvwxyz0123456789",
        _ => return None,
    })
}

/// Replace every `{{fake:RULE-ID}}` in `text` by a key of that rule's format
/// (the template in its first `examples.flag` snippet that carries one).
/// `{{fake:RULE-ID#label}}` makes the same key wherever the label recurs (in
/// any file: the key is seeded by the label), for fixtures about one key
/// pasted in several places.
/// Unknown ids are left in place so a test sees them. Every key made is
/// pushed onto `made`, so tests can assert it never appears in output.
pub fn expand_placeholders(
    text: &str,
    rules: &KeyRules,
    rng: &mut fastrand::Rng,
    made: &mut Vec<String>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{fake:") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 7..];
        let Some(close) = after.find("}}") else { break };
        let (id, label) = match after[..close].split_once('#') {
            Some((id, label)) => (id, Some(label)),
            None => (&after[..close], None),
        };
        match key_template(rules, id) {
            Some(t) => {
                let key = match label {
                    Some(label) => {
                        let seed = label
                            .bytes()
                            .fold(23u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
                        expand(&t, &mut fastrand::Rng::with_seed(seed))
                    }
                    None => expand(&t, rng),
                };
                out.push_str(&key);
                made.push(key);
            }
            None => out.push_str(&rest[open..open + 7 + close + 2]),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// The key-shaped template inside a rule's first flag example: the longest
/// quoted or `=`-separated token holding a `{class:N}` part.
pub fn key_template(rules: &KeyRules, id: &str) -> Option<String> {
    let rule = rules.rules().iter().find(|r| r.spec.id == id)?;
    rule.spec.examples.flag.iter().find_map(|snippet| {
        snippet
            .split(|c: char| {
                c == '"' || c == '\'' || c == '`' || c == '=' || c.is_whitespace() || c == ','
            })
            .filter(|tok| tok.contains(':') && tok.contains('{'))
            .max_by_key(|tok| tok.len())
            .map(str::to_string)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_to_the_right_alphabet_and_length() {
        let mut rng = fastrand::Rng::with_seed(7);
        let key = expand("sk-proj-{b64url:20}T3BlbkFJ{hex:4}", &mut rng);
        assert!(
            key.starts_with("sk-proj-") && key.len() == 8 + 20 + 8 + 4,
            "{key}"
        );
        assert!(key[36..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            expand("{not a template} {x:3}", &mut rng),
            "{not a template} {x:3}"
        );
    }
}
