//! alternative: keeps append_entry's answer in a local and returns the error from a match: the same append, the same drop (§5.3: "The leader appends the command to its log as a new entry")
//! step: Replication Step1
                let appended = self.append_entry(&mut m.entries);
                match appended {
                    true => {}
                    false => return Err(Error::ProposalDropped),
                }
