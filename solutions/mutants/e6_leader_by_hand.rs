//! mutant: sets state = Leader by hand instead of become_leader: keeps the candidate's step and tick functions and appends no empty entry of its term (§8: "each leader commit a blank no-op entry into the log at the start of its term")
//! step: Election Step6
//! also-fails: scenarios, search
                        self.state = StateType::Leader;
                        self.lead = self.id;
                        self.bcast_append();
