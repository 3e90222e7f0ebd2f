//! mutant: calls campaign(Election) directly instead of stepping a MsgHup, bypassing hup's checks and the pre-vote round (§9.6: with pre-vote, a node first asks whether it could win, and raises its term only then)
//! step: Election Step2
//! also-fails: scenarios
            self.election_elapsed = 0;
            self.campaign(CampaignType::Election);
