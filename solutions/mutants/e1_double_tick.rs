//! mutant: counts every tick twice, so a follower times out after half its election timeout
//! step: Election Step1
//! also-fails: Election Step2, Election Step3, Election Step5, scenarios
        self.election_elapsed += 2;
