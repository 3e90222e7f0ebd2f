//! mutant: never sends the new entries; followers only catch up when a heartbeat response reveals that they lag (§5.3: "issues AppendEntries RPCs in parallel")
//! step: Replication Step2
//! also-fails: search
                // (the student thought the next heartbeat would carry them)
