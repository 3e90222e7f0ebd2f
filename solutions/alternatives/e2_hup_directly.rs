//! alternative: calls hup with the kind of election the MsgHup handler would choose (pre-vote when configured), instead of stepping a MsgHup: a MsgHup has no term, so step hands it straight to that handler, and hup keeps every check (already leader, not a voter, pending configuration changes). Unlike the mutant e2_campaign_directly, nothing is bypassed
//! step: Election Step2
            self.election_elapsed = 0;
            if self.pre_vote {
                self.hup(CampaignType::PreElection);
            } else {
                self.hup(CampaignType::Election);
            }
