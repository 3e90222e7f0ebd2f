//! The disk storage alone: what survives a crash, and what a damaged log
//! does to a restart. A "crash" is dropping the storage without any
//! shutdown: the log is written with no user-space buffer, so the file then
//! holds exactly what a killed process would leave.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use kv::storage::{DiskStorage, OpenError, WAL_FILE, WAL_MAGIC};
use raft::{ConfState, Entry, HardState, Snapshot, SnapshotMetadata, Storage};

/// A fresh directory under the system's temporary directory, removed when
/// dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "raftlab-kv-storage-{}-{n}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        TempDir(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn voters() -> ConfState {
    ConfState {
        voters: vec![1, 2, 3],
        learners: vec![],
    }
}

fn open(dir: &Path) -> DiskStorage {
    DiskStorage::open(dir, 1, &voters())
        .unwrap_or_else(|e| panic!("open {}: {e}", dir.display()))
        .0
}

fn entries(from: u64, to: u64, term: u64) -> Vec<Entry> {
    (from..=to)
        .map(|i| Entry::new(term, i, format!("v{i}").as_bytes()))
        .collect()
}

fn hs(term: u64, vote: u64, commit: u64) -> HardState {
    HardState { term, vote, commit }
}

/// Everything Raft reads back, for comparing two storages.
fn contents(s: &DiskStorage) -> (HardState, ConfState, u64, u64, Vec<Entry>, Snapshot) {
    let state = s.initial_state().unwrap();
    let first = s.first_index().unwrap();
    let last = s.last_index().unwrap();
    let ents = if last >= first {
        s.entries(first, last + 1, u64::MAX).unwrap()
    } else {
        vec![]
    };
    (
        state.hard_state,
        state.conf_state,
        first,
        last,
        ents,
        s.snapshot(0).unwrap(),
    )
}

fn wal(dir: &Path) -> PathBuf {
    dir.join(WAL_FILE)
}

#[test]
fn restart_recovers_everything_persisted() {
    // Entries, a conflicting overwrite, and hard states all come back.
    let dir = TempDir::new("recover");
    let before = {
        let mut s = open(dir.path());
        s.persist(None, &entries(1, 5, 1), Some(hs(1, 1, 0)), true)
            .unwrap();
        s.persist(None, &entries(4, 6, 2), Some(hs(2, 2, 3)), true)
            .unwrap();
        s.persist(None, &[], Some(hs(2, 2, 6)), false).unwrap();
        contents(&s)
    };
    assert_eq!(before.3, 6);
    assert_eq!(before.4[3].term, 2, "entry 4 was overwritten in term 2");
    let (s, recovery) = DiskStorage::open(dir.path(), 1, &voters()).unwrap();
    assert!(!recovery.created);
    assert_eq!(recovery.torn_tail, None);
    assert_eq!(contents(&s), before);
    assert_eq!(s.initial_state().unwrap().hard_state, hs(2, 2, 6));
}

#[test]
fn a_new_directory_records_its_node_and_members() {
    let dir = TempDir::new("identity");
    let (s, recovery) = DiskStorage::open(dir.path(), 1, &voters()).unwrap();
    assert!(recovery.created);
    assert_eq!(s.initial_state().unwrap().conf_state, voters());
    drop(s);
    // The membership given later is ignored; another node id is refused.
    let other = ConfState {
        voters: vec![9],
        learners: vec![],
    };
    let (s, _) = DiskStorage::open(dir.path(), 1, &other).unwrap();
    assert_eq!(s.initial_state().unwrap().conf_state, voters());
    drop(s);
    match DiskStorage::open(dir.path(), 2, &voters()) {
        Err(OpenError::WrongNode { found, wanted, .. }) => assert_eq!((found, wanted), (1, 2)),
        other => panic!("got {:?}, want WrongNode", other.map(|_| ())),
    }
}

#[test]
fn a_torn_last_record_is_cut_off() {
    // A crash in the middle of the last write leaves part of a record:
    // its header only, half of it, or a body whose checksum fails. Each
    // is cut off; everything before it survives, and new writes follow.
    let dir = TempDir::new("torn");
    let good = {
        let mut s = open(dir.path());
        s.persist(None, &entries(1, 3, 1), Some(hs(1, 1, 2)), true)
            .unwrap();
        contents(&s)
    };
    let clean_len = fs::metadata(wal(dir.path())).unwrap().len();
    // The record a crash interrupted: entries 4..=5, as the log writes it.
    let full_record = {
        let other = TempDir::new("torn-source");
        let mut s = open(other.path());
        s.persist(None, &entries(1, 3, 1), Some(hs(1, 1, 2)), true)
            .unwrap();
        s.persist(None, &entries(4, 5, 1), None, true).unwrap();
        let bytes = fs::read(wal(other.path())).unwrap();
        bytes[clean_len as usize..].to_vec()
    };
    assert!(full_record.len() > 20);
    let mut bad_body = full_record.clone();
    let last = bad_body.len() - 1;
    bad_body[last] ^= 0xFF;
    let zeros = vec![0u8; full_record.len()];
    let tails: [(&str, Vec<u8>); 5] = [
        ("3 bytes of header", full_record[..3].to_vec()),
        ("a header only", full_record[..12].to_vec()),
        (
            "half a record",
            full_record[..full_record.len() / 2].to_vec(),
        ),
        ("a body failing its checksum", bad_body),
        ("zeros from a size change that outran the data", zeros),
    ];
    for (name, tail) in tails {
        OpenOptions::new()
            .append(true)
            .open(wal(dir.path()))
            .unwrap()
            .write_all(&tail)
            .unwrap();
        let (mut s, recovery) =
            DiskStorage::open(dir.path(), 1, &voters()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            recovery.torn_tail,
            Some((clean_len, tail.len() as u64)),
            "{name}"
        );
        assert_eq!(contents(&s), good, "{name}");
        assert_eq!(
            fs::metadata(wal(dir.path())).unwrap().len(),
            clean_len,
            "{name}: the file is cut back"
        );
        // The log goes on after the cut.
        s.persist(None, &entries(4, 4, 1), None, true).unwrap();
        drop(s);
        let s = open(dir.path());
        assert_eq!(s.last_index().unwrap(), 4, "{name}");
        drop(s);
        // Back to the clean state for the next case.
        let f = OpenOptions::new()
            .write(true)
            .open(wal(dir.path()))
            .unwrap();
        f.set_len(clean_len).unwrap();
    }
}

#[test]
fn corruption_before_the_last_record_refuses_to_start() {
    // A flipped byte in an early record is lost acknowledged data: the
    // node must not start, and the message names the file and the offset.
    let dir = TempDir::new("corrupt");
    let record_offsets = {
        let mut s = open(dir.path());
        let mut offsets = vec![s.wal_bytes()];
        for i in 1..=4 {
            s.persist(None, &entries(i, i, 1), Some(hs(1, 1, i)), true)
                .unwrap();
            offsets.push(s.wal_bytes());
        }
        offsets
    };
    let path = wal(dir.path());
    let pristine = fs::read(&path).unwrap();
    // Damage the body of the first entries record, then its length.
    let first = record_offsets[0] as usize;
    for (what, at) in [("body", first + 14), ("length", first)] {
        let mut bytes = pristine.clone();
        bytes[at] ^= 0x55;
        fs::write(&path, &bytes).unwrap();
        match DiskStorage::open(dir.path(), 1, &voters()) {
            Err(e @ OpenError::Corrupt { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains(WAL_FILE), "{what}: {msg}");
                assert!(
                    msg.contains(&format!("offset {first}")),
                    "{what}: {msg} should name offset {first}"
                );
            }
            other => panic!("{what}: got {:?}, want Corrupt", other.map(|_| ())),
        }
        // Nothing was cut: the damaged file is left for a person to see.
        assert_eq!(fs::read(&path).unwrap(), bytes, "{what}");
    }
    // A log without the magic is refused at offset 0.
    let mut bytes = pristine.clone();
    bytes[..WAL_MAGIC.len()].copy_from_slice(b"NOTAWAL!");
    fs::write(&path, &bytes).unwrap();
    let msg = DiskStorage::open(dir.path(), 1, &voters())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(msg.contains("offset 0"), "{msg}");
}

#[test]
fn compaction_keeps_the_snapshot_and_the_tail() {
    // After a snapshot at 60 the log file holds only the snapshot and the
    // entries after it; a restart sees the same snapshot, hard state and
    // entries from 61 on.
    let dir = TempDir::new("compact");
    let mut s = open(dir.path());
    s.persist(None, &entries(1, 80, 1), Some(hs(1, 1, 80)), true)
        .unwrap();
    let big = s.wal_bytes();
    assert!(s.compact(60, b"state@60".to_vec(), 10).unwrap());
    assert!(!s.compact(60, b"again".to_vec(), 10).unwrap(), "not newer");
    assert!(s.wal_bytes() < big);
    // Memory keeps 10 entries before the snapshot for slow followers.
    assert_eq!(s.first_index().unwrap(), 51);
    s.persist(None, &entries(81, 82, 1), Some(hs(1, 1, 82)), true)
        .unwrap();
    drop(s);

    let s = open(dir.path());
    let snap = s.snapshot(0).unwrap();
    assert_eq!(
        (
            snap.metadata.index,
            snap.metadata.term,
            snap.data.as_slice()
        ),
        (60, 1, &b"state@60"[..])
    );
    assert_eq!(snap.metadata.conf_state, voters());
    assert_eq!(s.first_index().unwrap(), 61);
    assert_eq!(s.last_index().unwrap(), 82);
    assert_eq!(s.entries(61, 83, u64::MAX).unwrap(), entries(61, 82, 1));
    assert_eq!(s.initial_state().unwrap().hard_state, hs(1, 1, 82));
}

#[test]
fn a_snapshot_from_the_leader_replaces_the_log() {
    let dir = TempDir::new("install");
    let snap = Snapshot {
        data: b"leader state".to_vec(),
        metadata: SnapshotMetadata {
            conf_state: voters(),
            index: 100,
            term: 4,
        },
    };
    {
        let mut s = open(dir.path());
        s.persist(None, &entries(1, 5, 1), Some(hs(1, 1, 5)), true)
            .unwrap();
        s.persist(
            Some(&snap),
            &entries(101, 102, 4),
            Some(hs(4, 0, 100)),
            true,
        )
        .unwrap();
        // An older snapshot is ignored, not written.
        let mut old = snap.clone();
        old.metadata.index = 50;
        s.persist(Some(&old), &[], None, true).unwrap();
    }
    let s = open(dir.path());
    assert_eq!(s.snapshot(0).unwrap(), snap);
    assert_eq!(s.first_index().unwrap(), 101);
    assert_eq!(s.last_index().unwrap(), 102);
    assert_eq!(s.initial_state().unwrap().hard_state, hs(4, 0, 100));
}

#[test]
fn an_unfinished_compaction_leaves_the_old_log() {
    // A crash while the new log is written leaves wal.tmp beside the
    // intact wal.log: it is removed and the old log is used.
    let dir = TempDir::new("tmp");
    let before = {
        let mut s = open(dir.path());
        s.persist(None, &entries(1, 3, 1), Some(hs(1, 1, 3)), true)
            .unwrap();
        contents(&s)
    };
    fs::write(dir.path().join("wal.tmp"), b"RLKVWAL1 half written").unwrap();
    let s = open(dir.path());
    assert_eq!(contents(&s), before);
    assert!(!dir.path().join("wal.tmp").exists());
}
