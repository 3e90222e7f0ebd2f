//! mutant: replies with self.term instead of the request's term. The same for a real vote, but a pre-vote asks about a term the voter has not entered: a voter whose term is behind the pre-candidate's grants with its older term, which the pre-candidate drops as stale, so it may never gather a majority of pre-votes (§9.6; the library's pre-candidate counts grants only for the term it asked about)
//! step: Election Step5
//! also-fails: scenarios, search
                    let mut resp = Message::new(m.msg_type.vote_response(), self.id, m.from);
                    resp.term = self.term;
                    self.send(resp);
                    if m.msg_type == MessageType::MsgVote {
                        self.election_elapsed = 0;
                        self.vote = m.from;
                    }
