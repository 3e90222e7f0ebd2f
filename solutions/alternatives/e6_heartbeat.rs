//! mutant: announces the victory with heartbeats instead of appends, so the followers do not receive the new term's empty entry until a later round trip
//! step: Election Step6
                        self.become_leader();
                        self.bcast_heartbeat();
