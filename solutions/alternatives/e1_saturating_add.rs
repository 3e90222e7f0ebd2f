//! alternative: advances the election clock with saturating_add instead of `+=`: the same count in every reachable run, and a learner, which never campaigns and so never sets its clock back, can tick forever without an overflow panic
//! step: Election Step1
        self.election_elapsed = self.election_elapsed.saturating_add(1);
