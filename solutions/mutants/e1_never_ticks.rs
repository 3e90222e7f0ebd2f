//! mutant: tick_election forgets to advance election_elapsed, so a follower never times out and no election ever starts (§5.2: "If a follower receives no communication over a period of time called the election timeout, then it ... begins an election")
//! step: Election Step1
//! also-fails: Election Step2, Election Step3, Election Step5, scenarios, search
        // (the student thought `past_election_timeout` counted the ticks)
