//! mutant: broadcasts before become_leader, so the appends carry the candidate's old view and not the new leader's empty entry
//! step: Election Step6
                        self.bcast_append();
                        self.become_leader();
