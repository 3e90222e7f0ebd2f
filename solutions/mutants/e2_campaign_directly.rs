//! mutant: calls campaign(Election) directly instead of stepping a MsgHup, bypassing hup's checks and the pre-vote round
//! step: Election Step2
//! also-fails: scenarios
            self.election_elapsed = 0;
            self.campaign(CampaignType::Election);
