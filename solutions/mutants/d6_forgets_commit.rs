//! mutant: restores the term and the vote but not the commit index: the node forgets what it had committed, its application does not apply it again, and the commit index it hands over to be saved goes back (the commit index is saved with the hard state so that a restart starts from it)
//! step: Deep Step6
//! also-fails: scenarios
        self.term = hs.term;
        self.vote = hs.vote;
