//! mutant: broadcasts on every acknowledgement but never advances the commit index, so nothing is ever committed
//! step: Replication Step4
//! also-fails: scenarios
                    self.bcast_append();
