//! Provider key formats (`rules/keys.toml`) and the scanner that runs them.
//!
//! Like gitleaks: one case-insensitive Aho-Corasick pass over every rule's
//! keywords, then only the rules whose keyword occurs run their regex; a
//! candidate must then pass the placeholder list, the entropy floor, the
//! dummy heuristics and the rule's context words. The scanner returns byte
//! ranges; redaction happens where findings are made.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::bytes::Regex;
use serde::Deserialize;
use std::sync::OnceLock;

use super::{line_of_entry, parse_toml, CatalogError};
use crate::findings::Severity;
use crate::source::Source;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    #[serde(default)]
    allowlist: AllowlistSpec,
    #[serde(default)]
    rule: Vec<KeyRuleSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowlistSpec {
    #[serde(default)]
    placeholder_words: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRuleSpec {
    pub id: String,
    pub provider: String,
    pub message: String,
    pub regex: String,
    pub keywords: Vec<String>,
    pub min_entropy: Option<f64>,
    pub severity: Option<SeveritySpec>,
    #[serde(default)]
    pub context: Vec<String>,
    pub context_lines: Option<u32>,
    pub without_context: Option<WithoutContext>,
    #[serde(default)]
    pub exclude_context: Vec<String>,
    /// Words that, on the key's own line, say the key is something else
    /// (`maps.googleapis.com/maps/api/js?key=…`): not a finding. Narrower
    /// than `exclude_context`, so a neighbouring line cannot hide a key.
    #[serde(default)]
    pub exclude_line: Vec<String>,
    /// Every match lies on one line (but for the one character before it,
    /// which may be the line's `\n`) and holds one of the keywords as
    /// written (ASCII case aside); `$` is the multi-line one. Then the
    /// regex runs only on the lines where a keyword is, not on the whole
    /// file: for the generic rules, whose keywords are common words and
    /// whose regexes have no literal a search can skip to.
    #[serde(default)]
    pub line: bool,
    pub revoke_url: Option<String>,
    /// For a key reported without its context (`without_context = "warning"`):
    /// the message and where to revoke it, when the provider's own page
    /// would be wrong (a bare Google key is not known to be a Gemini key).
    pub without_context_message: Option<String>,
    pub without_context_revoke_url: Option<String>,
    /// The environment variable the key conventionally lives in (for the fix).
    pub env_var: Option<String>,
    #[serde(default)]
    pub examples: Examples,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SeveritySpec {
    Error,
    Warning,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WithoutContext {
    Skip,
    Warning,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    #[serde(default)]
    pub flag: Vec<String>,
    #[serde(default)]
    pub pass: Vec<String>,
}

/// One key rule and its regex with the index of its `secret` group,
/// compiled on first use: a run compiles only the rules whose keywords
/// occur in some file (compiling all 36 built-in regexes up front was 7% of
/// the instructions of a 10,000-file audit). Users' rules are compiled when
/// loaded, so that a bad regex is reported with its file and line.
pub struct KeyRule {
    pub spec: KeyRuleSpec,
    compiled: OnceLock<Option<(Regex, usize)>>,
}

impl KeyRule {
    fn compiled(&self) -> Option<&(Regex, usize)> {
        self.compiled
            .get_or_init(|| compile_regex(&self.spec.regex).ok())
            .as_ref()
    }
}

fn compile_regex(pattern: &str) -> Result<(Regex, usize), regex::Error> {
    let regex = Regex::new(pattern)?;
    let secret_group = regex
        .capture_names()
        .position(|n| n == Some("secret"))
        .unwrap_or(0);
    Ok((regex, secret_group))
}

/// What one search for the keywords found in a file: the rules whose
/// keywords occur, and the places of the keywords of `line` rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidates {
    pub wanted: Vec<bool>,
    seen: Vec<bool>,
    /// (byte offset, keyword index), in the order found; at most
    /// [`MAX_PLACES`], past which `line` rules read the whole file.
    pub(crate) places: Vec<(usize, usize)>,
    too_many_places: bool,
}

/// Keyword places kept per file (16 bytes each): a 20 MiB file of `hf`
/// would otherwise keep ten million.
pub const MAX_PLACES: usize = 1 << 16;

/// A candidate key that passed every filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyMatch {
    pub rule: usize,
    pub start: usize,
    pub end: usize,
    pub severity: Severity,
}

#[derive(Default)]
pub struct KeyRules {
    /// (file, line, rule, compile at load).
    specs: Vec<(String, usize, KeyRuleSpec, bool)>,
    placeholder_words: Vec<String>,
    rules: Vec<KeyRule>,
    /// The keywords, lowercased (the prefilter's patterns, in order).
    keywords: Vec<String>,
    /// keyword index → rule indexes.
    keyword_rules: Vec<Vec<usize>>,
    /// keyword index → whether a `line` rule uses it (its places are kept).
    line_keyword: Vec<bool>,
    prefilter: Option<AhoCorasick>,
    placeholders: Option<AhoCorasick>,
}

impl KeyRules {
    pub fn from_toml(file: &str, text: &str) -> Result<KeyRules, CatalogError> {
        let parsed: KeysFile = parse_toml(file, text)?;
        let specs = parsed
            .rule
            .into_iter()
            .map(|r| {
                let line = line_of_entry(text, &format!("id = \"{}\"", r.id));
                (file.to_string(), line, r, true)
            })
            .collect();
        Ok(KeyRules {
            specs,
            placeholder_words: parsed.allowlist.placeholder_words,
            ..KeyRules::default()
        })
    }

    /// Compile these rules' regexes on first use rather than at load: for
    /// the built-in rules, whose regexes the tests compile and run.
    pub fn compiled_on_first_use(mut self) -> KeyRules {
        for spec in &mut self.specs {
            spec.3 = false;
        }
        self
    }

    /// Add another file's rules after these (earlier rules win overlaps).
    pub fn extend(&mut self, other: KeyRules) {
        self.specs.extend(other.specs);
        self.placeholder_words.extend(other.placeholder_words);
    }

    /// Compile every regex and the keyword prefilter once.
    pub fn compile(&mut self) -> Result<(), CatalogError> {
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut rules = Vec::new();
        for (index, (file, line, spec, eager)) in self.specs.iter().enumerate() {
            let err =
                |m: String| CatalogError::new(file, *line, format!("rule `{}`: {m}", spec.id));
            if rules.iter().any(|r: &KeyRule| r.spec.id == spec.id) {
                return Err(err("duplicate rule id".into()));
            }
            let compiled = OnceLock::new();
            if *eager {
                let regex =
                    compile_regex(&spec.regex).map_err(|e| err(format!("bad regex: {e}")))?;
                let _ = compiled.set(Some(regex));
            }
            if spec.keywords.is_empty() {
                return Err(err("needs at least one keyword (the prefilter)".into()));
            }
            for k in &spec.keywords {
                let k = k.to_ascii_lowercase();
                match keywords.iter().position(|x| *x == k) {
                    Some(i) => keyword_rules[i].push(index),
                    None => {
                        keywords.push(k);
                        keyword_rules.push(vec![index]);
                    }
                }
            }
            rules.push(KeyRule {
                spec: spec.clone(),
                compiled,
            });
        }
        let build = |words: &[String]| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                // Every file is searched: a DFA is the fastest automaton.
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(words)
        };
        self.prefilter =
            Some(build(&keywords).map_err(|e| CatalogError::new("rules", 0, e.to_string()))?);
        self.keywords = keywords;
        self.placeholders = Some(
            build(&self.placeholder_words)
                .map_err(|e| CatalogError::new("rules", 0, e.to_string()))?,
        );
        self.line_keyword = keyword_rules
            .iter()
            .map(|rs| rs.iter().any(|&r| rules[r].spec.line))
            .collect();
        self.rules = rules;
        self.keyword_rules = keyword_rules;
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    pub fn rules(&self) -> &[KeyRule] {
        &self.rules
    }

    pub fn rule(&self, index: usize) -> &KeyRuleSpec {
        &self.rules[index].spec
    }

    /// Which rules can match: those whose keyword occurs in `bytes`.
    pub(crate) fn candidate_rules(&self, bytes: &[u8]) -> Candidates {
        let mut found = self.no_candidates();
        if let Some(ac) = &self.prefilter {
            for m in ac.find_overlapping_iter(bytes) {
                self.keyword_at(m.pattern().as_usize(), m.start(), &mut found);
            }
        }
        found
    }

    /// Does `value` read as a placeholder or a dummy (`your-key-here`,
    /// `sk-...`, `changeme`, `xxxx`), rather than a real secret?
    pub fn is_placeholder(&self, value: &[u8]) -> bool {
        value.len() < 12
            || value.contains(&b'<')
            || self
                .placeholders
                .as_ref()
                .is_some_and(|ac| ac.is_match(value))
            || entropy(value) < 3.0
            || is_dummy(value)
    }

    /// Cheap test for "could this file hold a key at all".
    pub fn may_match(&self, bytes: &[u8]) -> bool {
        self.prefilter.as_ref().is_some_and(|ac| ac.is_match(bytes))
    }

    /// The keywords, lowercased: keyword `i` of [`KeyRules::want_keyword`].
    pub fn keywords(&self) -> &[String] {
        &self.keywords
    }

    /// No keyword found yet: for [`KeyRules::keyword_at`].
    pub fn no_candidates(&self) -> Candidates {
        Candidates {
            wanted: vec![false; self.rules.len()],
            seen: vec![false; self.keywords.len()],
            places: Vec::new(),
            too_many_places: false,
        }
    }

    /// Keyword `keyword` is in the text at byte `at`: want the rules it
    /// keys, and keep the place for the `line` rules.
    pub fn keyword_at(&self, keyword: usize, at: usize, found: &mut Candidates) {
        if self.line_keyword.get(keyword).copied().unwrap_or(false) {
            match found.places.len() < MAX_PLACES {
                true => found.places.push((at, keyword)),
                false => found.too_many_places = true,
            }
        }
        if found.seen.get(keyword).copied().unwrap_or(true) {
            return;
        }
        found.seen[keyword] = true;
        for &r in &self.keyword_rules[keyword] {
            found.wanted[r] = true;
        }
    }

    /// Every key in `source`, overlaps resolved in favour of earlier rules.
    pub fn scan(&self, source: &Source) -> Vec<KeyMatch> {
        // One pass of the keyword automaton (no `may_match` first: most
        // files hold a keyword such as `api_key`, and would be read twice).
        self.scan_rules(source, &self.candidate_rules(source.bytes()))
    }

    /// [`KeyRules::scan`] with the rules whose keywords were found already
    /// (by [`crate::catalog::Catalog::source_words`]).
    pub fn scan_rules(&self, source: &Source, candidates: &Candidates) -> Vec<KeyMatch> {
        self.scan_with(source, candidates, true)
    }

    /// [`KeyRules::scan`] with every regex over the whole file, `line`
    /// rules too: what the lines' search must find (tests, fuzzing).
    pub fn scan_whole_files(&self, source: &Source) -> Vec<KeyMatch> {
        self.scan_with(source, &self.candidate_rules(source.bytes()), false)
    }

    fn scan_with(&self, source: &Source, candidates: &Candidates, by_lines: bool) -> Vec<KeyMatch> {
        let bytes = source.bytes();
        let wanted = &candidates.wanted;
        if !wanted.contains(&true) {
            return Vec::new();
        }
        let mut found: Vec<KeyMatch> = Vec::new();
        for (index, rule) in self
            .rules
            .iter()
            .enumerate()
            .filter(|(i, _)| wanted.get(*i).copied().unwrap_or(false))
        {
            let Some((regex, secret_group)) = rule.compiled() else {
                continue;
            };
            let mut take = |m: regex::bytes::Match<'_>| {
                if let Some(severity) = self.judge(rule, source, m.start(), m.end()) {
                    found.push(KeyMatch {
                        rule: index,
                        start: m.start(),
                        end: m.end(),
                        severity,
                    });
                }
            };
            if !(rule.spec.line && by_lines) || candidates.too_many_places {
                for caps in regex.captures_iter(bytes) {
                    caps.get(*secret_group).map(&mut take);
                }
                continue;
            }
            // A `line` rule: the lines of its keywords' places, each once.
            // The haystack ends with the line and the search starts at the
            // line's start, so `^`, `$` and the character before the line
            // read as they do in the whole file.
            let mut scanned_to = 0;
            for &(at, keyword) in &candidates.places {
                if at < scanned_to || !self.keyword_rules[keyword].contains(&index) {
                    continue;
                }
                let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
                let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
                scanned_to = end;
                let line = &bytes[..end];
                let mut from = start;
                while let Some(caps) = regex.captures_at(line, from) {
                    let Some(whole) = caps.get(0) else {
                        break;
                    };
                    caps.get(*secret_group).map(&mut take);
                    from = whole.end().max(whole.start() + 1);
                    if from > end {
                        break;
                    }
                }
            }
        }
        found.sort_by_key(|m| (m.start, m.rule));
        let mut kept: Vec<KeyMatch> = Vec::new();
        for m in found {
            match kept.iter_mut().find(|k| k.start < m.end && m.start < k.end) {
                Some(k) if m.rule < k.rule => *k = m,
                Some(_) => {}
                None => kept.push(m),
            }
        }
        kept.sort_by_key(|m| m.start);
        kept
    }

    /// What [`KeyRules::may_hold_key`] depends on (each rule's id, regex and
    /// keywords), as a SHA-256: the facts cache is kept only while it is
    /// the same.
    pub fn fingerprint(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for rule in &self.rules {
            let spec = &rule.spec;
            for part in std::iter::once(&spec.id)
                .chain(std::iter::once(&spec.regex))
                .chain(&spec.keywords)
            {
                hash.update((part.len() as u64).to_le_bytes());
                hash.update(part.as_bytes());
            }
        }
        hash.finalize().into()
    }

    /// Does any rule's pattern match in `bytes`, real-looking or not? (The
    /// facts cache keeps no file that does: `src/cache.rs`.)
    pub fn may_hold_key(&self, bytes: &[u8]) -> bool {
        let wanted = self.candidate_rules(bytes).wanted;
        self.rules
            .iter()
            .zip(wanted)
            .filter(|(_, w)| *w)
            .filter_map(|(rule, _)| rule.compiled())
            .any(|(regex, _)| regex.is_match(bytes))
    }

    /// `Some(severity)` if the candidate is a real-looking key here.
    fn judge(&self, rule: &KeyRule, source: &Source, start: usize, end: usize) -> Option<Severity> {
        let secret = &source.bytes()[start..end];
        if self
            .placeholders
            .as_ref()
            .is_some_and(|ac| ac.is_match(secret))
        {
            return None;
        }
        if rule
            .spec
            .min_entropy
            .is_some_and(|min| entropy(secret) < min)
            || is_dummy(secret)
        {
            return None;
        }
        let base = match rule.spec.severity {
            Some(SeveritySpec::Warning) => Severity::Warning,
            _ => Severity::Error,
        };
        let line = source.line_of(start);
        if !rule.spec.exclude_line.is_empty() {
            let own = source.lines_range(line, line).to_ascii_lowercase();
            if rule
                .spec
                .exclude_line
                .iter()
                .any(|w| contains(&own, w.as_bytes()))
            {
                return None;
            }
        }
        if rule.spec.context.is_empty() && rule.spec.exclude_context.is_empty() {
            return Some(base);
        }
        let window = rule.spec.context_lines.unwrap_or(5);
        let near = source
            .lines_range(line.saturating_sub(window), line + window)
            .to_ascii_lowercase();
        let has = |words: &[String]| words.iter().any(|w| contains(&near, w.as_bytes()));
        if has(&rule.spec.exclude_context) {
            return None;
        }
        if rule.spec.context.is_empty() || has(&rule.spec.context) {
            return Some(base);
        }
        match rule.spec.without_context {
            Some(WithoutContext::Warning) => Some(Severity::Warning),
            _ => None,
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// Shannon entropy in bits per byte.
pub fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0usize; 256];
    for b in bytes {
        counts[*b as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|&c| -(c as f64 / n) * (c as f64 / n).log2())
        .sum()
}

/// Dummies that pass an entropy floor: `sk-1234567890abcdef…`, `abcabcabc…`.
pub fn is_dummy(secret: &[u8]) -> bool {
    // The body: what follows the provider prefix (`sk-proj-`, `gsk_`, …).
    let head = &secret[..secret.len().min(16)];
    let body = match head.iter().rposition(|b| *b == b'-' || *b == b'_') {
        Some(i) if secret.len() - i > 16 => &secret[i + 1..],
        _ => secret,
    };
    if body.len() < 8 {
        return false;
    }
    let steps = body
        .windows(2)
        .filter(|w| w[1] == w[0].wrapping_add(1))
        .count();
    if steps * 2 > body.len() {
        return true;
    }
    let periodic =
        (1..=16).any(|p| body.len() >= 2 * p && body.iter().skip(p).zip(body).all(|(a, b)| a == b));
    if periodic {
        return true;
    }
    let mut distinct = [false; 256];
    body.iter().for_each(|b| distinct[*b as usize] = true);
    distinct.iter().filter(|d| **d).count() < 6
}

pub fn rule_line(rules: &KeyRules, index: usize) -> (String, usize) {
    let (file, line, _, _) = &rules.specs[index];
    (file.clone(), *line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_rules_compile_on_first_use_and_users_rules_at_load() {
        let catalog = crate::catalog::Catalog::load(&[]).unwrap();
        for rule in catalog.keys.rules() {
            assert!(
                rule.compiled.get().is_none(),
                "{} compiled at load",
                rule.spec.id
            );
            assert!(rule.compiled().is_some(), "{}: bad regex", rule.spec.id);
            // The redacted part is the `secret` group, where there is one.
            let (regex, group) = rule.compiled().unwrap();
            assert_eq!(
                *group > 0,
                regex.capture_names().any(|n| n == Some("secret")),
                "{}",
                rule.spec.id
            );
        }
        let mut mine = KeyRules::from_toml(
            "mine.toml",
            "[[rule]]\nid = \"x\"\nprovider = \"X\"\nmessage = \"m\"\nregex = \"(?P<secret>xk-[a-z]{8})\"\nkeywords = [\"xk-\"]\n",
        )
        .unwrap();
        mine.compile().unwrap();
        assert!(mine.rules()[0].compiled.get().is_some());
    }

    #[test]
    fn too_many_keyword_places_make_line_rules_read_the_whole_file() {
        let catalog = crate::catalog::Catalog::load(&[]).unwrap();
        let keys = &catalog.keys;
        let key = "HF_TOKEN = \"h7Xk2pQ9vLm4Rt8sW3nB6yZ1cV5gJ0aD\"";
        for hits in [10, MAX_PLACES + 10] {
            let text = format!("{}\n{key}\n", "hf ".repeat(hits));
            let source = Source::new(text.into_bytes());
            let found = keys.candidate_rules(source.bytes());
            assert!(found.places.len() <= MAX_PLACES);
            assert_eq!(found.too_many_places, hits > MAX_PLACES);
            let scanned = keys.scan_rules(&source, &found);
            assert_eq!(scanned, keys.scan_whole_files(&source), "{hits}");
            assert!(
                scanned
                    .iter()
                    .any(|m| keys.rule(m.rule).id == "generic-ai-key-assignment"),
                "{hits}: {scanned:?}"
            );
        }
    }

    #[test]
    fn dummies_are_recognised() {
        assert!(is_dummy(b"sk-proj-1234567890abcdef1234567890abcdef"));
        assert!(is_dummy(b"sk-abcabcabcabcabcabcabcabcabc"));
        assert!(is_dummy(b"gsk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        assert!(!is_dummy(b"sk-proj-Zq3vN8wLp2Rk7TgXc4Hy9MbJd6Fs1Ae5Wu0Qn"));
    }

    #[test]
    fn entropy_of_random_and_flat_text() {
        assert!(entropy(b"aaaaaaaa") < 0.01);
        assert!(entropy(b"Zq3vN8wLp2Rk7TgXc4Hy9MbJd6Fs1Ae5") > 4.5);
    }

    #[test]
    fn broken_user_rules_name_file_and_line() {
        let text = "[[rule]]\nid = \"x\"\nprovider = \"X\"\nmessage = \"m\"\nregex = '''(unclosed'''\nkeywords = [\"x\"]\n";
        let mut rules = KeyRules::from_toml("mine.toml", text).unwrap();
        let err = rules.compile().expect_err("bad regex is an error");
        assert_eq!((err.file.as_str(), err.line), ("mine.toml", 2), "{err}");
        let err = KeyRules::from_toml("mine.toml", "[[rule]]\nid = \"x\"\nnope = 1\n")
            .err()
            .unwrap();
        assert_eq!(err.line, 3, "{err}");
    }
}
