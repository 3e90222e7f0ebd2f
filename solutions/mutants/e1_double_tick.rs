//! mutant: counts every tick twice, so a follower times out after half its election timeout (§5.2: an election begins only once an election timeout passes without news from a leader)
//! step: Election Step1
//! also-fails: Election Step2, Election Step3, Election Step5, scenarios, search
        self.election_elapsed += 2;
