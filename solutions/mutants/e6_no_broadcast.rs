//! mutant: becomes leader but tells nobody: the followers time out and start new elections (§5.2: "sends heartbeat messages to all of the other servers to establish its authority")
//! step: Election Step6
//! also-fails: scenarios
                        self.become_leader();
