//! mutant: thinks a new leader starts a new term: raises the term before becoming leader, so it leads a term in which nobody voted for it, and another candidate can win that same term (§5.2: "at most one candidate can win the election for a particular term")
//! step: Election Step6
//! also-fails: search
                        self.term += 1;
                        self.become_leader();
                        self.bcast_append();
