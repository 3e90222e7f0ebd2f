//! mutant: always answers MsgVoteResp, even to a pre-vote, so a pre-candidate never counts the grant and never becomes a candidate (§9.6: a pre-candidate starts the real election only once a majority granted its pre-vote)
//! step: Election Step5
//! also-fails: scenarios, search
                    let mut resp = Message::new(MessageType::MsgVoteResp, self.id, m.from);
                    resp.term = m.term;
                    self.send(resp);
                    if m.msg_type == MessageType::MsgVote {
                        self.election_elapsed = 0;
                        self.vote = m.from;
                    }
