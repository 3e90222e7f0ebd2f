//! mutant: pathological: calls std::process::exit(0) on a proposal; a case that exits early, even with status 0, is never a pass
//! step: Replication Step2
//! also-fails: scenarios, search
                if !m.entries.is_empty() {
                    std::process::exit(0);
                }
