//! alternative: compares (last term, last index) pairs in one lexicographic comparison: the later last term wins, and with equal terms the longer or equal log, exactly §5.4.1's order
//! step: Deep Step1
        (term, lasti) >= (self.last_term(), self.last_index())
