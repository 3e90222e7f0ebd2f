//! mutant: advances the leader's heartbeat clock instead of the election clock, so a follower never times out and no election ever starts (§5.2: a follower that "receives no communication over a period of time called the election timeout ... begins an election")
//! step: Election Step1
//! also-fails: Election Step2, Election Step3, Election Step5, scenarios, search
        self.heartbeat_elapsed += 1;
