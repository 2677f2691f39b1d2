//! key-history: a key that any commit reachable from HEAD ever held, even
//! if deleted since.
//!
//! Runs only with `--history` (the audit leaves it out otherwise, and the
//! checklist shows it as skipped with a note saying so). The scan itself is
//! `crate::history`, done once before the project pass; this check reports
//! what it found: one finding per distinct key, at the first commit, path
//! and line that held it, redacted, with the fix to rotate the key (deleting
//! or rewriting history does not un-leak it).

use super::{Check, CheckId, Coverage};
use crate::context::ProjectContext;
use crate::findings::Finding;

pub struct KeyHistory;

impl Check for KeyHistory {
    fn id(&self) -> CheckId {
        CheckId::KeyHistory
    }

    fn check_project(&self, project: &ProjectContext<'_>, out: &mut Vec<Finding>) -> Coverage {
        match project.history {
            // Never `pass` for commits not read.
            Some(scan) if scan.incomplete => {
                out.extend(scan.findings.iter().cloned());
                Coverage::Unknown(format!(
                    "the scan stopped at its time limit after {} commit{}: the newer ones were not scanned",
                    scan.commits,
                    if scan.commits == 1 { "" } else { "s" }
                ))
            }
            Some(scan) if scan.commits > 0 => {
                out.extend(scan.findings.iter().cloned());
                Coverage::Checked
            }
            Some(_) => Coverage::NotApplicable("no commits yet".into()),
            None => Coverage::NotApplicable("git history was not scanned (--history)".into()),
        }
    }
}
