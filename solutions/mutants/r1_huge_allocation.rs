//! mutant: pathological: reserves a 1 TiB buffer for the log on every proposal; the allocation fails and the process aborts
//! step: Replication Step1
//! also-fails: Replication Step2, scenarios, search
                let mut buffer = vec![0u8; 1 << 40];
                buffer[0] = 1;
                std::hint::black_box(&buffer);
                if !self.append_entry(&mut m.entries) {
                    return Err(Error::ProposalDropped);
                }
