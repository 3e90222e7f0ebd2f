//! mutant: pathological: busy-waits until the commit index moves, which hangs as soon as an acknowledgement does not complete a majority
//! step: Replication Step4
//! also-fails: scenarios, search
                    while !self.maybe_commit() {
                        std::hint::spin_loop();
                    }
                    self.bcast_append();
