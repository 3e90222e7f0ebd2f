//! Durable Raft storage: a write-ahead log on disk, replayed into a
//! [`MemStorage`] that serves Raft's reads.
//!
//! Every change to the storage (entries appended, hard state set, snapshot
//! installed) is first written to `wal.log` as a checksummed record, synced
//! when the `Ready` asks for it, and only then made visible in memory; on
//! restart the records are replayed in order, so memory ends where it was.
//! Log compaction writes a new file holding only the snapshot and what
//! follows it, and renames it over the old one.
//!
//! ```text
//! wal.log:  "RLKVWAL1"  record  record  record ...
//! record:   len u32 | crc32(len) u32 | crc32(body) u32 | body (len bytes)
//! body:     kind u8 | payload         (identity, bootstrap, conf state,
//!                                      hard state, entries, snapshot)
//! ```
//!
//! The length has its own checksum so a damaged length is caught rather
//! than followed. On replay, a last record that is incomplete, or whose
//! body fails its checksum, is cut off and reported in [`Recovery`]. Such
//! a tail is what a crash in the middle of a write leaves (that write was
//! never synced, so never acknowledged), but it is also what a disk that
//! lost synced data leaves (then it may have been acknowledged): the log
//! cannot tell the two apart, and says so. Any damage before the last
//! record means the disk lost data that was synced: the node refuses to
//! start and names the file and the offset.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use raft::{
    ConfState, Entry, HardState, Index, MemStorage, NodeId, RaftState, Snapshot, Storage, Term,
};
use tracing::{info, warn};

use crate::codec::{self, DecodeError, Decoder, Encoder};
use crate::crc32::crc32;

/// The first bytes of every log file, with the format's version.
pub const WAL_MAGIC: &[u8; 8] = b"RLKVWAL1";
/// The log's file name inside the data directory.
pub const WAL_FILE: &str = "wal.log";
/// Where a new log is built before it is renamed into place.
const WAL_TMP_FILE: &str = "wal.tmp";
/// Bytes before a record's body: length, length checksum, body checksum.
pub const RECORD_HEADER_BYTES: usize = 12;
/// No record is larger; a length beyond it is damage, not data.
const MAX_RECORD_BYTES: usize = 1 << 30;

/// What a record holds: its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// The node id the directory belongs to, written once at creation.
    Identity = 1,
    ConfState = 2,
    HardState = 3,
    Entries = 4,
    Snapshot = 5,
    /// The cluster this directory belongs to: its id and first members.
    Bootstrap = 6,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Kind> {
        [
            Kind::Identity,
            Kind::ConfState,
            Kind::HardState,
            Kind::Entries,
            Kind::Snapshot,
            Kind::Bootstrap,
        ]
        .into_iter()
        .find(|k| *k as u8 == b)
    }
}

/// Why a data directory could not be opened.
#[derive(Debug)]
pub enum OpenError {
    Io {
        path: PathBuf,
        source: io::Error,
    },
    /// Damage before the last record, or a record that makes no sense.
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    /// The directory was created for another node.
    WrongNode {
        path: PathBuf,
        found: NodeId,
        wanted: NodeId,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            OpenError::Corrupt {
                path,
                offset,
                reason,
            } => write!(
                f,
                "{} is corrupt at offset {offset}: {reason}. Refusing to start: data this node \
                 acknowledged (entries, votes) may be lost, and a node that forgot them must \
                 not rejoin under its old id. {}",
                path.display(),
                replace_advice(None)
            ),
            OpenError::WrongNode {
                path,
                found,
                wanted,
            } => write!(
                f,
                "{} belongs to node {found}, not node {wanted}: pass --id {found} or another \
                 --data directory",
                path.display()
            ),
        }
    }
}

impl std::error::Error for OpenError {}

/// What to do with node `id` (or any node) whose data is lost or damaged,
/// as the refusal messages say it.
pub fn replace_advice(id: Option<NodeId>) -> String {
    let id = id.map_or("ID".to_string(), |id| id.to_string());
    format!(
        "In a cluster, replace it with a new member: `kv member remove {id}`, then `kv member \
         add PEER_ADDR --http HTTP_ADDR`, start the new member with an empty data directory \
         as that command prints, and once it has caught up, `kv member promote NEW_ID`. A \
         one-node cluster has no other copy: restore the directory from a backup (`kv snapshot \
         save` makes one)."
    )
}

/// The cluster a data directory belongs to: written once, when the
/// directory is created, identical on every first member, and copied by
/// every member added later. A snapshot makes the first members' log
/// entries unnecessary, but not this record: it is what a new member
/// starts from when the leader sends it the log from the first entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bootstrap {
    /// A hash of the first members: two clusters started with different
    /// `--peers` lists have different ids.
    pub cluster_id: u64,
    /// The first members (all voters) and their peer addresses.
    pub members: Vec<(NodeId, String)>,
}

impl Bootstrap {
    /// The bootstrap of a new cluster whose first members are `members`.
    pub fn new(members: Vec<(NodeId, String)>) -> Bootstrap {
        let mut members = members;
        members.sort();
        // FNV-1a over "id=addr;" for each member, in id order.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for (id, addr) in &members {
            for b in format!("{id}={addr};").bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        Bootstrap {
            cluster_id: h,
            members,
        }
    }

    /// The first membership: every first member a voter.
    pub fn conf_state(&self) -> ConfState {
        ConfState {
            voters: self.members.iter().map(|(id, _)| *id).collect(),
            learners: vec![],
        }
    }

    pub fn encode(&self, e: &mut Encoder) {
        e.u64(self.cluster_id);
        e.u32(u32::try_from(self.members.len()).unwrap_or(u32::MAX));
        for (id, addr) in &self.members {
            e.u64(*id);
            e.bytes(addr.as_bytes());
        }
    }

    pub fn decode(d: &mut Decoder) -> Result<Bootstrap, DecodeError> {
        let cluster_id = d.u64("cluster id")?;
        let n = d.count("member count", 12)?;
        let mut members = Vec::with_capacity(n);
        for _ in 0..n {
            let id = d.u64("member id")?;
            let addr = d.bytes("member address")?;
            let addr = String::from_utf8(addr).map_err(|_| d.error("an address is not UTF-8"))?;
            members.push((id, addr));
        }
        Ok(Bootstrap {
            cluster_id,
            members,
        })
    }
}

/// What opening found, besides the state itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// The directory had no log: a new one was created.
    pub created: bool,
    /// Records replayed.
    pub records: usize,
    /// An incomplete last record was cut off: its offset and how many bytes
    /// went. It may have been acknowledged; see the module doc.
    pub torn_tail: Option<(u64, u64)>,
}

/// A [`Storage`] whose every change is on disk before it is visible.
pub struct DiskStorage {
    mem: MemStorage,
    dir: PathBuf,
    node_id: NodeId,
    bootstrap: Bootstrap,
    /// The membership as of the last applied entry, for the next snapshot.
    applied_conf_state: ConfState,
    /// `wal.log`, opened for appending.
    file: File,
    /// The log file's size.
    wal_bytes: u64,
}

impl DiskStorage {
    /// Opens the log in `dir` (created if missing) for node `node_id`. A
    /// new log records `conf_state` as the first membership (with no peer
    /// addresses); an existing one keeps its own. Tests use this; a node
    /// uses [`DiskStorage::open_existing`] and [`DiskStorage::create`].
    pub fn open(
        dir: &Path,
        node_id: NodeId,
        conf_state: &ConfState,
    ) -> Result<(DiskStorage, Recovery), OpenError> {
        if let Some(opened) = DiskStorage::open_existing(dir, node_id)? {
            return Ok(opened);
        }
        let bootstrap = Bootstrap::new(
            conf_state
                .voters
                .iter()
                .map(|&id| (id, String::new()))
                .collect(),
        );
        DiskStorage::create(dir, node_id, &bootstrap, conf_state)
    }

    /// Whether `dir` holds a log.
    pub fn exists(dir: &Path) -> bool {
        dir.join(WAL_FILE).exists()
    }

    /// Creates a new log in `dir` for node `node_id` of the cluster
    /// `bootstrap`, starting from the membership `conf_state`, and opens it.
    pub fn create(
        dir: &Path,
        node_id: NodeId,
        bootstrap: &Bootstrap,
        conf_state: &ConfState,
    ) -> Result<(DiskStorage, Recovery), OpenError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| OpenError::Io { path, source }
        };
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let wal_path = dir.join(WAL_FILE);
        let mut records = Encoder::new();
        put_record(&mut records, Kind::Identity, |e| {
            e.u64(node_id);
            e.u64(bootstrap.cluster_id);
        });
        put_record(&mut records, Kind::Bootstrap, |e| bootstrap.encode(e));
        put_record(&mut records, Kind::ConfState, |e| {
            codec::put_conf_state(e, conf_state)
        });
        write_new_log(dir, &records.buf).map_err(io_err(&wal_path))?;
        info!(
            "created {} for node {node_id} of cluster {:016x}, voters {:?}, learners {:?}",
            wal_path.display(),
            bootstrap.cluster_id,
            conf_state.voters,
            conf_state.learners
        );
        let (store, mut recovery) =
            DiskStorage::open_existing(dir, node_id)?.ok_or_else(|| OpenError::Io {
                path: wal_path.clone(),
                source: io::Error::new(io::ErrorKind::NotFound, "vanished after it was created"),
            })?;
        recovery.created = true;
        Ok((store, recovery))
    }

    /// Opens the log in `dir` for node `node_id`; `None` when there is
    /// none.
    pub fn open_existing(
        dir: &Path,
        node_id: NodeId,
    ) -> Result<Option<(DiskStorage, Recovery)>, OpenError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| OpenError::Io { path, source }
        };
        let wal_path = dir.join(WAL_FILE);
        // A leftover temporary file is a rewrite that did not finish; the
        // log it was to replace is still whole.
        let tmp = dir.join(WAL_TMP_FILE);
        if tmp.exists() {
            warn!(
                "removing {}, left by an unfinished compaction",
                tmp.display()
            );
            fs::remove_file(&tmp).map_err(io_err(&tmp))?;
        }
        if !wal_path.exists() {
            return Ok(None);
        }
        let mut recovery = Recovery::default();
        let bytes = fs::read(&wal_path).map_err(io_err(&wal_path))?;
        let mem = MemStorage::new();
        let mut bootstrap = None;
        let replayed = replay(&wal_path, &bytes, node_id, &mem, &mut bootstrap)?;
        recovery.records = replayed.records;
        let mut wal_bytes = bytes.len() as u64;
        if let Some(offset) = replayed.torn_at {
            let cut = bytes.len() as u64 - offset;
            warn!(
                "{}: cut off an incomplete last record at offset {offset} ({cut} bytes). A crash \
                 in the middle of a write leaves one (that write was never synced, so never \
                 acknowledged); so does a disk that lost data after it was synced (then what \
                 it held may have been acknowledged). This log cannot tell which.",
                wal_path.display()
            );
            let f = OpenOptions::new()
                .write(true)
                .open(&wal_path)
                .map_err(io_err(&wal_path))?;
            f.set_len(offset).map_err(io_err(&wal_path))?;
            f.sync_all().map_err(io_err(&wal_path))?;
            recovery.torn_tail = Some((offset, cut));
            wal_bytes = offset;
        }
        let file = OpenOptions::new()
            .append(true)
            .open(&wal_path)
            .map_err(io_err(&wal_path))?;
        let applied_conf_state = mem
            .initial_state()
            .map(|s| s.conf_state)
            .unwrap_or_default();
        // A log written before the bootstrap record existed: its members
        // are the first membership, addresses unknown.
        let bootstrap = bootstrap.unwrap_or_else(|| {
            Bootstrap::new(
                applied_conf_state
                    .voters
                    .iter()
                    .map(|&id| (id, String::new()))
                    .collect(),
            )
        });
        Ok(Some((
            DiskStorage {
                mem,
                dir: dir.to_path_buf(),
                node_id,
                bootstrap,
                applied_conf_state,
                file,
                wal_bytes,
            },
            recovery,
        )))
    }

    /// The cluster this log belongs to.
    pub fn bootstrap(&self) -> &Bootstrap {
        &self.bootstrap
    }

    /// Records the membership after a change was applied: the next
    /// snapshot carries it. (On disk it changes only with a snapshot; after
    /// a restart Raft applies the changes after the snapshot again.)
    pub fn set_applied_conf_state(&mut self, cs: ConfState) {
        self.applied_conf_state = cs;
    }

    /// The log file's path.
    pub fn wal_path(&self) -> PathBuf {
        self.dir.join(WAL_FILE)
    }

    /// The log file's size in bytes.
    pub fn wal_bytes(&self) -> u64 {
        self.wal_bytes
    }

    /// The in-memory copy, for reading.
    pub fn mem(&self) -> &MemStorage {
        &self.mem
    }

    /// The index of the latest snapshot, 0 for none.
    pub fn snapshot_index(&self) -> Index {
        self.mem
            .snapshot(0)
            .map(|s| s.metadata.index)
            .unwrap_or_default()
    }

    /// Persists what a `Ready` hands over, in the order it must be
    /// replayed: the snapshot, the entries, the hard state. All of it goes
    /// out in one write; with `sync` it is on disk when this returns. An
    /// error means the disk failed: the caller must stop, since Raft
    /// already counts on this being stable.
    pub fn persist(
        &mut self,
        snapshot: Option<&Snapshot>,
        entries: &[Entry],
        hard_state: Option<HardState>,
        sync: bool,
    ) -> io::Result<()> {
        let snapshot = snapshot.filter(|s| {
            let held = self.snapshot_index();
            let fresh = s.metadata.index > held;
            if !fresh {
                warn!(
                    "ignored snapshot at {} no newer than the one held at {held}",
                    s.metadata.index
                );
            }
            fresh
        });
        let mut records = Encoder::new();
        if let Some(s) = snapshot {
            put_record(&mut records, Kind::Snapshot, |e| codec::put_snapshot(e, s));
        }
        if !entries.is_empty() {
            put_record(&mut records, Kind::Entries, |e| {
                codec::put_entries(e, entries)
            });
        }
        if let Some(hs) = &hard_state {
            put_record(&mut records, Kind::HardState, |e| {
                codec::put_hard_state(e, hs)
            });
        }
        if records.buf.is_empty() {
            return Ok(());
        }
        self.file.write_all(&records.buf)?;
        if sync {
            self.file.sync_data()?;
        }
        self.wal_bytes += records.buf.len() as u64;

        let mut core = self.mem.wl();
        if let Some(s) = snapshot {
            core.apply_snapshot(s.clone())
                .unwrap_or_else(|e| panic!("snapshot checked fresh was refused: {e}"));
        }
        if !entries.is_empty() {
            core.append(entries)
                .unwrap_or_else(|e| panic!("append of entries from a Ready failed: {e}"));
        }
        if let Some(hs) = hard_state {
            core.set_hard_state(hs);
        }
        Ok(())
    }

    /// Takes a snapshot of the state machine at `applied` (`data` is its
    /// bytes), keeps the last `keep_entries` entries before it in memory for
    /// slow followers, and rewrites the log to hold only the snapshot and
    /// what follows it. Returns false when there is already a snapshot that
    /// new. Panics if `applied` is past the last entry: nothing can have
    /// applied it.
    pub fn compact(
        &mut self,
        applied: Index,
        data: Vec<u8>,
        keep_entries: u64,
    ) -> io::Result<bool> {
        if applied <= self.snapshot_index() {
            return Ok(false);
        }
        let state = self.initial_state_or_panic();
        let conf_state = self.applied_conf_state.clone();
        let term = self
            .mem
            .term(applied)
            .unwrap_or_else(|e| panic!("no term for applied index {applied}: {e}"));
        let snap = Snapshot {
            data,
            metadata: raft::SnapshotMetadata {
                conf_state: conf_state.clone(),
                index: applied,
                term,
            },
        };
        let tail: Vec<Entry> = self
            .mem
            .rl()
            .entries_all()
            .into_iter()
            .filter(|e| e.index > applied)
            .collect();

        // The new file is complete and synced before it replaces the old
        // one, and memory changes only after that: a crash anywhere leaves
        // one whole log.
        let mut records = Encoder::new();
        put_record(&mut records, Kind::Identity, |e| {
            e.u64(self.node_id);
            e.u64(self.bootstrap.cluster_id);
        });
        put_record(&mut records, Kind::Bootstrap, |e| self.bootstrap.encode(e));
        // The snapshot carries the membership at its index.
        put_record(&mut records, Kind::Snapshot, |e| {
            codec::put_snapshot(e, &snap)
        });
        if state.hard_state != HardState::default() {
            put_record(&mut records, Kind::HardState, |e| {
                codec::put_hard_state(e, &state.hard_state)
            });
        }
        if !tail.is_empty() {
            put_record(&mut records, Kind::Entries, |e| {
                codec::put_entries(e, &tail)
            });
        }
        write_new_log(&self.dir, &records.buf)?;
        self.file = OpenOptions::new().append(true).open(self.wal_path())?;
        self.wal_bytes = (WAL_MAGIC.len() + records.buf.len()) as u64;

        let first_index = self.mem.first_index().unwrap_or_default();
        let mut core = self.mem.wl();
        core.create_snapshot(applied, Some(conf_state.clone()), snap.data)
            .unwrap_or_else(|e| panic!("snapshot at applied index {applied} failed: {e}"));
        core.set_conf_state(conf_state);
        let compact_to = applied.saturating_sub(keep_entries);
        if compact_to >= first_index {
            core.compact(compact_to)
                .unwrap_or_else(|e| panic!("compacting to {compact_to} failed: {e}"));
        }
        Ok(true)
    }

    fn initial_state_or_panic(&self) -> RaftState {
        self.mem
            .initial_state()
            .unwrap_or_else(|e| panic!("the in-memory storage failed: {e}"))
    }
}

/// Appends one record: header, then a body of `kind` and what `payload`
/// writes.
fn put_record(out: &mut Encoder, kind: Kind, payload: impl FnOnce(&mut Encoder)) {
    let mut body = Encoder::new();
    body.u8(kind as u8);
    payload(&mut body);
    let len = u32::try_from(body.buf.len())
        .ok()
        .filter(|&l| (l as usize) <= MAX_RECORD_BYTES)
        .unwrap_or_else(|| panic!("a {kind:?} record of {} bytes is too large", body.buf.len()));
    out.u32(len);
    out.u32(crc32(&len.to_le_bytes()));
    out.u32(crc32(&body.buf));
    out.buf.extend_from_slice(&body.buf);
}

/// Writes a complete log (the magic, then `records`) under a temporary
/// name, syncs it, renames it to `wal.log` and syncs the directory, so the
/// log is replaced whole or not at all.
fn write_new_log(dir: &Path, records: &[u8]) -> io::Result<()> {
    let tmp = dir.join(WAL_TMP_FILE);
    {
        let mut f = File::create(&tmp)?;
        f.write_all(WAL_MAGIC)?;
        f.write_all(records)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, dir.join(WAL_FILE))?;
    File::open(dir)?.sync_all()
}

/// What a replay found.
struct Replayed {
    records: usize,
    /// Where a torn last record starts, to cut the file there.
    torn_at: Option<u64>,
}

/// Replays the log `bytes` (read from `path`) into `mem`.
fn replay(
    path: &Path,
    bytes: &[u8],
    node_id: NodeId,
    mem: &MemStorage,
    bootstrap: &mut Option<Bootstrap>,
) -> Result<Replayed, OpenError> {
    let corrupt = |offset: usize, reason: String| OpenError::Corrupt {
        path: path.to_path_buf(),
        offset: offset as u64,
        reason,
    };
    if bytes.len() < WAL_MAGIC.len() || &bytes[..WAL_MAGIC.len()] != WAL_MAGIC {
        return Err(corrupt(
            0,
            format!(
                "the file does not start with {:?}",
                String::from_utf8_lossy(WAL_MAGIC)
            ),
        ));
    }
    let mut pos = WAL_MAGIC.len();
    let mut records = 0;
    let torn = |pos: usize, records: usize| {
        Ok(Replayed {
            records,
            torn_at: Some(pos as u64),
        })
    };
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        // A file whose size grew but whose data never reached the disk
        // reads back as zeros: that too is an interrupted last write.
        if rest.len() < RECORD_HEADER_BYTES || rest.iter().all(|&b| b == 0) {
            return torn(pos, records);
        }
        let word = |i: usize| u32::from_le_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]);
        let (len, len_crc, body_crc) = (word(0), word(4), word(8));
        if crc32(&len.to_le_bytes()) != len_crc || len as usize > MAX_RECORD_BYTES || len == 0 {
            return Err(corrupt(
                pos,
                format!("a record header is damaged (length {len})"),
            ));
        }
        let end = RECORD_HEADER_BYTES + len as usize;
        if rest.len() < end {
            return torn(pos, records);
        }
        let body = &rest[RECORD_HEADER_BYTES..end];
        if crc32(body) != body_crc {
            if rest.len() == end {
                return torn(pos, records);
            }
            return Err(corrupt(
                pos,
                format!("a record of {len} bytes fails its checksum, and records follow it"),
            ));
        }
        apply_record(body, node_id, mem, bootstrap).map_err(|e| match e {
            RecordError::Bad(reason) => corrupt(pos, reason),
            RecordError::WrongNode(found) => OpenError::WrongNode {
                path: path.to_path_buf(),
                found,
                wanted: node_id,
            },
        })?;
        records += 1;
        pos += end;
    }
    Ok(Replayed {
        records,
        torn_at: None,
    })
}

/// Why one record cannot be replayed.
enum RecordError {
    Bad(String),
    WrongNode(NodeId),
}

/// Replays one record's body into `mem`.
fn apply_record(
    body: &[u8],
    node_id: NodeId,
    mem: &MemStorage,
    bootstrap: &mut Option<Bootstrap>,
) -> Result<(), RecordError> {
    let mut d = Decoder::new(body);
    let decode = |e: DecodeError| RecordError::Bad(format!("a record does not decode: {e}"));
    let kind_byte = d.u8("record kind").map_err(decode)?;
    let Some(kind) = Kind::from_byte(kind_byte) else {
        return Err(RecordError::Bad(format!("unknown record kind {kind_byte}")));
    };
    match kind {
        Kind::Identity => {
            let found = d.u64("node id").map_err(decode)?;
            if found != node_id {
                return Err(RecordError::WrongNode(found));
            }
            // Logs written before the cluster id existed have none.
            if d.remaining() > 0 {
                d.u64("cluster id").map_err(decode)?;
            }
        }
        Kind::Bootstrap => {
            *bootstrap = Some(Bootstrap::decode(&mut d).map_err(decode)?);
        }
        Kind::ConfState => {
            let cs = codec::get_conf_state(&mut d).map_err(decode)?;
            mem.wl().set_conf_state(cs);
        }
        Kind::HardState => {
            let hs = codec::get_hard_state(&mut d).map_err(decode)?;
            mem.wl().set_hard_state(hs);
        }
        Kind::Entries => {
            let entries = codec::get_entries(&mut d).map_err(decode)?;
            check_appendable(mem, &entries).map_err(RecordError::Bad)?;
            mem.wl()
                .append(&entries)
                .map_err(|e| RecordError::Bad(format!("entries cannot be appended: {e}")))?;
        }
        Kind::Snapshot => {
            let snap = codec::get_snapshot(&mut d).map_err(decode)?;
            let index = snap.metadata.index;
            mem.wl().apply_snapshot(snap).map_err(|e| {
                RecordError::Bad(format!("snapshot at {index} cannot be installed: {e}"))
            })?;
        }
    }
    d.finish().map_err(decode)
}

/// What `MemStorageCore::append` asserts, checked as an error instead:
/// replaying a damaged but checksum-valid log must not panic.
fn check_appendable(mem: &MemStorage, entries: &[Entry]) -> Result<(), String> {
    let Some(first) = entries.first() else {
        return Ok(());
    };
    for pair in entries.windows(2) {
        if pair[0].index + 1 != pair[1].index {
            return Err(format!(
                "entries are not contiguous: {:?} then {:?}",
                pair[0], pair[1]
            ));
        }
    }
    let last = mem.last_index().unwrap_or_default();
    if first.index > last + 1 {
        return Err(format!(
            "entries from {} would leave a gap after the last index {last}",
            first.index
        ));
    }
    Ok(())
}

impl Storage for DiskStorage {
    fn initial_state(&self) -> raft::Result<RaftState> {
        self.mem.initial_state()
    }

    fn entries(&self, low: Index, high: Index, max_size: u64) -> raft::Result<Vec<Entry>> {
        self.mem.entries(low, high, max_size)
    }

    fn term(&self, idx: Index) -> raft::Result<Term> {
        self.mem.term(idx)
    }

    fn first_index(&self) -> raft::Result<Index> {
        self.mem.first_index()
    }

    fn last_index(&self) -> raft::Result<Index> {
        self.mem.last_index()
    }

    fn snapshot(&self, request_index: Index) -> raft::Result<Snapshot> {
        self.mem.snapshot(request_index)
    }
}
