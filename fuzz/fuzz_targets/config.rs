//! `aiguard.toml` parsing and resolution: fuzzed bytes as the project's
//! config, loaded like `aiguard audit` loads it (key-rule files it names
//! are read too, so a second fuzzed file is offered as `rules.toml`).
//! Errors are fine (exit 2 with file:line); panics and hangs are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch();
    common::reset(&dir);
    // `config\n//--\nrules`: the second part is a user key-rules file.
    let sep = b"\n//--\n";
    let (config, rules) = match data.windows(sep.len()).position(|w| w == sep) {
        Some(i) => (&data[..i], &data[i + sep.len()..]),
        None => (data, &[][..]),
    };
    std::fs::write(dir.join("aiguard.toml"), config).unwrap();
    std::fs::write(dir.join("rules.toml"), rules).unwrap();
    let mut args = aiguard::cli::AuditArgs::defaults(dir.clone());
    args.no_cache = true; // no state between runs
    args.threads = Some(1);
    if let Ok((settings, catalog)) = aiguard::commands::load(&args) {
        // A config that loads must also run.
        let _ = aiguard::app::audit(&settings, &catalog);
    }
});
