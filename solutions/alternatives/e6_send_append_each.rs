//! alternative: becomes leader, then sends each other node (learners too) what it lacks with the per-peer send instead of the broadcast helper: the same messages (§5.2: "sends heartbeat messages to all of the other servers")
//! step: Election Step6
                        self.become_leader();
                        let me = self.id;
                        let others: Vec<NodeId> =
                            self.prs.progress.keys().copied().filter(|&id| id != me).collect();
                        for id in others {
                            self.send_append(id);
                        }
