//! Reading a submission in-process: a single `.rs` file, a directory, a
//! `.tar`, a `.tar.gz` / `.tgz` or a `.zip`, told apart by their first
//! bytes rather than their names.
//!
//! Nothing is extracted to disk and no link is ever followed: the reader
//! walks the archive once, keeps the bytes of the files it was asked for
//! and drops everything else. A submission is refused, with an
//! [`ArchiveError`] that says why, when
//!
//! - an entry's path is absolute or has a `..` component (anywhere in the
//!   archive, whatever its name);
//! - a symbolic link, hard link, device, FIFO or sparse entry sits where a
//!   wanted file could be (the file itself, or a folder on its way); a
//!   directory submission may hold no symbolic link at all;
//! - a wanted file is larger than [`Caps::file_bytes`], the archive
//!   decompresses to more than [`Caps::total_bytes`] (counted while
//!   reading, so a bomb stops at the cap), or it has more than
//!   [`Caps::entries`] entries;
//! - a wanted file is missing, is not UTF-8, or more than one entry could
//!   be it ("ambiguous submission", naming them all).
//!
//! Where a wanted file may be, for the name `raft/src/raft.rs`:
//!
//! ```text
//! raft.rs                    the file alone at the top
//! raft/src/raft.rs           the full path
//! alice/raft.rs              either one under a single top-level folder
//! alice/raft/src/raft.rs
//! ```
//!
//! A submission that is one `.rs` file is taken as the wanted file when a
//! single file is wanted. Archives inside the archive are not opened.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use nix::fcntl::OFlag;

/// Bounds on what one submission may make the reader do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// Largest wanted file, in bytes.
    pub file_bytes: u64,
    /// Most bytes read in all: the submission file itself, and what its
    /// compression unpacks to.
    pub total_bytes: u64,
    /// Most entries (files, folders, links) in an archive or directory.
    pub entries: u64,
    /// Deepest folder nesting walked in a directory submission.
    pub depth: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            file_bytes: 1 << 20,
            total_bytes: 64 << 20,
            entries: 10_000,
            depth: 32,
        }
    }
}

/// What the submission turned out to be, by content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    RustFile,
    Directory,
    Tar,
    TarGz,
    Zip,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::RustFile => "a Rust file",
            Format::Directory => "a directory",
            Format::Tar => "a tar archive",
            Format::TarGz => "a gzip-compressed tar archive",
            Format::Zip => "a zip archive",
        })
    }
}

/// One wanted file, found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Where it was inside the submission, e.g. `alice/raft.rs`.
    pub entry: String,
    pub text: String,
}

/// The wanted files of a submission, by wanted name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    pub format: Format,
    pub files: BTreeMap<String, Found>,
}

/// Why a submission was refused.
#[derive(Debug)]
pub enum ArchiveError {
    /// The submission (or a file of a directory submission) could not be
    /// read.
    Io {
        path: PathBuf,
        error: io::Error,
    },
    /// Neither a Rust file, a directory, nor an archive the lab reads.
    UnknownFormat {
        path: PathBuf,
        detail: String,
    },
    /// The archive's own structure is broken (or encrypted).
    Corrupt {
        format: Format,
        detail: String,
    },
    /// The submission holds no entry at all.
    Empty,
    /// No entry could be this wanted file.
    Missing {
        wanted: String,
    },
    /// More than one entry could be this wanted file.
    Ambiguous {
        wanted: String,
        candidates: Vec<String>,
    },
    /// An entry's path leaves the submission (absolute, or `..`).
    UnsafePath {
        entry: String,
    },
    /// A link (or, in a directory, any symbolic link) where a wanted file
    /// or a folder on its way could be.
    Link {
        entry: String,
        kind: &'static str,
    },
    /// A device, FIFO, socket or sparse entry where a wanted file could be.
    SpecialFile {
        entry: String,
        kind: &'static str,
    },
    /// Two entries of a zip archive share one name.
    DuplicateNames,
    /// A wanted file is larger than the cap.
    FileTooLarge {
        entry: String,
        limit: u64,
    },
    /// The submission reads or unpacks to more than the cap.
    TooMuchData {
        limit: u64,
    },
    TooManyEntries {
        limit: u64,
    },
    TooDeep {
        entry: String,
        limit: usize,
    },
    /// A wanted file is not UTF-8 text.
    NotUtf8 {
        entry: String,
    },
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArchiveError::Io { path, error } => {
                write!(f, "cannot read {}: {error}", path.display())
            }
            ArchiveError::UnknownFormat { path, detail } => write!(
                f,
                "{} is not a submission the lab reads ({detail}): submit a .rs file, a folder, \
                 a .tar, .tar.gz, .tgz or .zip",
                path.display()
            ),
            ArchiveError::Corrupt { format, detail } => write!(f, "broken {format}: {detail}"),
            ArchiveError::Empty => write!(f, "the submission is empty"),
            ArchiveError::Missing { wanted } => {
                let base = base_name(wanted);
                write!(
                    f,
                    "no {wanted} in the submission (looked for {base} and {wanted}, at the top \
                     or under one top-level folder)"
                )
            }
            ArchiveError::Ambiguous { wanted, candidates } => write!(
                f,
                "ambiguous submission: {} entries could be {wanted}: {}; submit exactly one",
                candidates.len(),
                candidates.join(", ")
            ),
            ArchiveError::DuplicateNames => write!(
                f,
                "ambiguous submission: the zip archive holds two entries under one name"
            ),
            ArchiveError::UnsafePath { entry } => write!(
                f,
                "the submission holds an entry outside itself: {entry:?} (absolute paths and \
                 `..` are refused)"
            ),
            ArchiveError::Link { entry, kind } => write!(
                f,
                "{entry:?} is a {kind}: links are never followed, submit the file itself"
            ),
            ArchiveError::SpecialFile { entry, kind } => {
                write!(f, "{entry:?} is a {kind}, not a regular file")
            }
            ArchiveError::FileTooLarge { entry, limit } => {
                write!(f, "{entry:?} is larger than {}", format_bytes(*limit))
            }
            ArchiveError::TooMuchData { limit } => write!(
                f,
                "the submission is larger than {} once unpacked",
                format_bytes(*limit)
            ),
            ArchiveError::TooManyEntries { limit } => {
                write!(f, "the submission holds more than {limit} entries")
            }
            ArchiveError::TooDeep { entry, limit } => {
                write!(f, "{entry:?} is nested more than {limit} folders deep")
            }
            ArchiveError::NotUtf8 { entry } => write!(f, "{entry:?} is not UTF-8 text"),
        }
    }
}

impl std::error::Error for ArchiveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ArchiveError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

fn format_bytes(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

fn base_name(wanted: &str) -> &str {
    wanted.rsplit('/').next().unwrap_or(wanted)
}

/// Reads the files named in `wanted` (paths like `raft/src/raft.rs`) from
/// the submission at `path`.
pub fn read_submission(
    path: &Path,
    wanted: &[&str],
    caps: &Caps,
) -> Result<Submission, ArchiveError> {
    let io_error = |error| ArchiveError::Io {
        path: path.to_path_buf(),
        error,
    };
    let metadata = fs::symlink_metadata(path).map_err(io_error)?;
    if metadata.file_type().is_symlink() {
        return Err(ArchiveError::Link {
            entry: path.display().to_string(),
            kind: "symbolic link",
        });
    }
    let mut matcher = Matcher::new(wanted);
    if metadata.is_dir() {
        read_directory(path, &mut matcher, caps)?;
        return matcher.finish(Format::Directory);
    }
    if !metadata.is_file() {
        return Err(ArchiveError::SpecialFile {
            entry: path.display().to_string(),
            kind: file_kind(&metadata.file_type()),
        });
    }
    if metadata.len() > caps.total_bytes {
        return Err(ArchiveError::TooMuchData {
            limit: caps.total_bytes,
        });
    }
    let bytes = fs::read(path).map_err(io_error)?;
    match sniff(&bytes) {
        Some(Format::Zip) => {
            read_zip(&bytes, &mut matcher, caps)?;
            matcher.finish(Format::Zip)
        }
        Some(Format::TarGz) => {
            let budget = Budget::new(caps.total_bytes);
            let mut decoder = Counted::new(GzDecoder::new(&bytes[..]), &budget);
            let mut head = Vec::new();
            (&mut decoder)
                .take(TAR_BLOCK as u64)
                .read_to_end(&mut head)
                .map_err(|e| budget.error(e, Format::TarGz))?;
            if sniff(&head) != Some(Format::Tar) {
                return Err(ArchiveError::UnknownFormat {
                    path: path.to_path_buf(),
                    detail: "gzip-compressed, but not a tar archive".to_string(),
                });
            }
            read_tar(
                head.chain(decoder),
                Format::TarGz,
                &budget,
                &mut matcher,
                caps,
            )?;
            matcher.finish(Format::TarGz)
        }
        Some(Format::Tar) => {
            let budget = Budget::new(caps.total_bytes);
            read_tar(&bytes[..], Format::Tar, &budget, &mut matcher, caps)?;
            matcher.finish(Format::Tar)
        }
        _ => {
            let is_rust = path.extension().is_some_and(|e| e == "rs");
            if !is_rust {
                return Err(ArchiveError::UnknownFormat {
                    path: path.to_path_buf(),
                    detail: "not an archive, and not named .rs".to_string(),
                });
            }
            let [name] = wanted else {
                return Err(ArchiveError::UnknownFormat {
                    path: path.to_path_buf(),
                    detail: format!(
                        "one Rust file, but {} files are wanted: submit an archive",
                        wanted.len()
                    ),
                });
            };
            let entry = path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            check_size(&entry, bytes.len() as u64, caps)?;
            let text = into_text(&entry, bytes)?;
            let mut files = BTreeMap::new();
            files.insert(name.to_string(), Found { entry, text });
            Ok(Submission {
                format: Format::RustFile,
                files,
            })
        }
    }
}

const TAR_BLOCK: usize = 512;

/// The format told by the first bytes: zip's local-file or end-of-directory
/// signature, gzip's magic, tar's `ustar` at offset 257 (or a v7 header
/// with a valid checksum, or the all-zero block of an empty tar).
fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Some(Format::Zip);
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Some(Format::TarGz);
    }
    let block = bytes.get(..TAR_BLOCK)?;
    if block[257..262] == *b"ustar" {
        return Some(Format::Tar);
    }
    if block.iter().all(|&b| b == 0) {
        return Some(Format::Tar);
    }
    // A v7 header: its checksum field (octal, at 148..156) is the sum of
    // the block's bytes with that field counted as spaces.
    let field = std::str::from_utf8(&block[148..156]).ok()?;
    let stored =
        u32::from_str_radix(field.trim_matches(|c: char| c == ' ' || c == '\0'), 8).ok()?;
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    (sum == stored).then_some(Format::Tar)
}

/// Bytes left to read, shared by every reader of one submission.
struct Budget {
    left: std::cell::Cell<u64>,
    exceeded: std::cell::Cell<bool>,
    limit: u64,
}

impl Budget {
    fn new(limit: u64) -> Budget {
        Budget {
            left: std::cell::Cell::new(limit),
            exceeded: std::cell::Cell::new(false),
            limit,
        }
    }

    /// The error a failed read stands for: the cap when it was hit.
    fn error(&self, error: io::Error, format: Format) -> ArchiveError {
        if self.exceeded.get() {
            ArchiveError::TooMuchData { limit: self.limit }
        } else {
            ArchiveError::Corrupt {
                format,
                detail: error.to_string(),
            }
        }
    }
}

/// A reader that charges what it reads to a [`Budget`] and fails past it.
struct Counted<'a, R> {
    inner: R,
    budget: &'a Budget,
}

impl<'a, R> Counted<'a, R> {
    fn new(inner: R, budget: &'a Budget) -> Self {
        Counted { inner, budget }
    }
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.budget.left.get();
        if left == 0 {
            // One byte more tells a stream that ends exactly at the cap
            // from one that goes on.
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.budget.exceeded.set(true);
            return Err(io::Error::other("the submission unpacks past its cap"));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.budget.left.set(left - n as u64);
        Ok(n)
    }
}

/// An entry's path split into its components, or why it is unsafe.
/// Backslashes count as separators (some zip tools write them); `.` and
/// empty components are dropped.
fn components(entry: &str) -> Result<Vec<&str>, ArchiveError> {
    let unsafe_path = || ArchiveError::UnsafePath {
        entry: entry.to_string(),
    };
    if entry.starts_with(['/', '\\']) || entry.get(1..2) == Some(":") {
        return Err(unsafe_path());
    }
    let mut parts = Vec::new();
    for part in entry.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return Err(unsafe_path()),
            _ => parts.push(part),
        }
    }
    Ok(parts)
}

/// Collects, per wanted name, every entry that could be it.
struct Matcher {
    wanted: Vec<(String, Vec<String>)>,
    found: BTreeMap<String, Vec<Found>>,
    entries: u64,
}

impl Matcher {
    fn new(wanted: &[&str]) -> Matcher {
        let wanted = wanted
            .iter()
            .map(|name| {
                let parts = name.split('/').filter(|p| !p.is_empty()).map(String::from);
                (name.to_string(), parts.collect())
            })
            .collect();
        Matcher {
            wanted,
            found: BTreeMap::new(),
            entries: 0,
        }
    }

    fn count_entry(&mut self, caps: &Caps) -> Result<(), ArchiveError> {
        self.entries += 1;
        if self.entries > caps.entries {
            return Err(ArchiveError::TooManyEntries {
                limit: caps.entries,
            });
        }
        Ok(())
    }

    /// The wanted name this path could be, if any.
    fn wanted_for(&self, parts: &[&str]) -> Option<&str> {
        self.wanted.iter().find_map(|(name, full)| {
            let base = full.last()?;
            let is = |form: &[String], parts: &[&str]| {
                form.len() == parts.len() && form.iter().zip(parts).all(|(a, b)| a == b)
            };
            let top = std::slice::from_ref(base);
            let matches = is(full, parts)
                || is(top, parts)
                || (parts.len() > 1 && (is(full, &parts[1..]) || is(top, &parts[1..])));
            matches.then_some(name.as_str())
        })
    }

    /// Whether a link or special entry at `parts` could stand for a wanted
    /// file or a folder on the way to one (with or without a top-level
    /// folder before it).
    fn on_the_way(&self, parts: &[&str]) -> bool {
        let starts = |form: &[String], parts: &[&str]| {
            parts.len() <= form.len() && form.iter().zip(parts).all(|(a, b)| a == b)
        };
        self.wanted.iter().any(|(_, full)| {
            let Some(base) = full.last() else {
                return false;
            };
            let top = std::slice::from_ref(base);
            starts(full, parts)
                || starts(top, parts)
                || (!parts.is_empty() && (starts(full, &parts[1..]) || starts(top, &parts[1..])))
        })
    }

    fn add(&mut self, wanted: &str, entry: String, text: String) {
        self.found
            .entry(wanted.to_string())
            .or_default()
            .push(Found { entry, text });
    }

    fn finish(mut self, format: Format) -> Result<Submission, ArchiveError> {
        if self.entries == 0 {
            return Err(ArchiveError::Empty);
        }
        let mut files = BTreeMap::new();
        for (name, _) in &self.wanted {
            let mut candidates = self.found.remove(name).unwrap_or_default();
            match candidates.len() {
                0 => {
                    return Err(ArchiveError::Missing {
                        wanted: name.clone(),
                    });
                }
                1 => {
                    files.insert(name.clone(), candidates.remove(0));
                }
                _ => {
                    let mut names: Vec<String> = candidates.into_iter().map(|f| f.entry).collect();
                    names.sort();
                    return Err(ArchiveError::Ambiguous {
                        wanted: name.clone(),
                        candidates: names,
                    });
                }
            }
        }
        Ok(Submission { format, files })
    }
}

fn check_size(entry: &str, size: u64, caps: &Caps) -> Result<(), ArchiveError> {
    if size > caps.file_bytes {
        return Err(ArchiveError::FileTooLarge {
            entry: entry.to_string(),
            limit: caps.file_bytes,
        });
    }
    Ok(())
}

fn into_text(entry: &str, bytes: Vec<u8>) -> Result<String, ArchiveError> {
    String::from_utf8(bytes).map_err(|_| ArchiveError::NotUtf8 {
        entry: entry.to_string(),
    })
}

/// Reads at most `caps.file_bytes` (one more tells a larger file).
fn read_capped(
    reader: impl Read,
    entry: &str,
    caps: &Caps,
) -> io::Result<Result<Vec<u8>, ArchiveError>> {
    let mut bytes = Vec::new();
    reader.take(caps.file_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > caps.file_bytes {
        return Ok(Err(ArchiveError::FileTooLarge {
            entry: entry.to_string(),
            limit: caps.file_bytes,
        }));
    }
    Ok(Ok(bytes))
}

fn read_tar(
    reader: impl Read,
    format: Format,
    budget: &Budget,
    matcher: &mut Matcher,
    caps: &Caps,
) -> Result<(), ArchiveError> {
    use tar::EntryType;
    let mut archive = tar::Archive::new(Counted::new(reader, budget));
    let entries = archive.entries().map_err(|e| budget.error(e, format))?;
    for entry in entries {
        let entry = entry.map_err(|e| budget.error(e, format))?;
        matcher.count_entry(caps)?;
        let raw_path = entry.path_bytes();
        // A name that is not UTF-8 cannot be a wanted file; but it must not
        // leave the submission either.
        let lossy = String::from_utf8_lossy(&raw_path).into_owned();
        let parts = components(&lossy)?;
        if std::str::from_utf8(&raw_path).is_err() {
            continue;
        }
        let kind = entry.header().entry_type();
        let refused = match kind {
            EntryType::Regular | EntryType::Continuous => None,
            EntryType::Directory => continue,
            EntryType::Symlink => Some((true, "symbolic link")),
            EntryType::Link => Some((true, "hard link")),
            EntryType::GNUSparse => Some((false, "sparse file")),
            EntryType::Char => Some((false, "character device")),
            EntryType::Block => Some((false, "block device")),
            EntryType::Fifo => Some((false, "FIFO")),
            // Long names and pax headers are read by the tar crate itself;
            // other types are nobody's source file.
            _ => Some((false, "special entry")),
        };
        if let Some((is_link, kind)) = refused {
            if matcher.on_the_way(&parts) {
                let entry = lossy;
                return Err(if is_link {
                    ArchiveError::Link { entry, kind }
                } else {
                    ArchiveError::SpecialFile { entry, kind }
                });
            }
            continue;
        }
        let Some(wanted) = matcher.wanted_for(&parts).map(str::to_string) else {
            continue;
        };
        check_size(&lossy, entry.header().size().unwrap_or(u64::MAX), caps)?;
        let bytes = read_capped(entry, &lossy, caps).map_err(|e| budget.error(e, format))??;
        let text = into_text(&lossy, bytes)?;
        matcher.add(&wanted, lossy, text);
    }
    Ok(())
}

fn read_zip(bytes: &[u8], matcher: &mut Matcher, caps: &Caps) -> Result<(), ArchiveError> {
    let corrupt = |e: zip::result::ZipError| ArchiveError::Corrupt {
        format: Format::Zip,
        detail: e.to_string(),
    };
    let mut archive = zip::ZipArchive::new(io::Cursor::new(bytes)).map_err(corrupt)?;
    if archive.has_duplicate_names() {
        // The zip crate keeps one entry per name and drops the others, so
        // which name was doubled cannot be told.
        return Err(ArchiveError::DuplicateNames);
    }
    if archive.len() as u64 > caps.entries {
        return Err(ArchiveError::TooManyEntries {
            limit: caps.entries,
        });
    }
    let budget = Budget::new(caps.total_bytes);
    let mut chosen = Vec::new();
    for index in 0..archive.len() {
        matcher.count_entry(caps)?;
        let file = archive.by_index_raw(index).map_err(corrupt)?;
        // Names without the UTF-8 flag are decoded as CP437 by the zip
        // crate; one it cannot decode cannot be a wanted file.
        let Ok(name) = file.name().map(|n| n.into_owned()) else {
            continue;
        };
        let parts = components(&name)?;
        if file.is_dir() {
            continue;
        }
        let special = match file.unix_mode().map(|mode| mode & 0o170000) {
            Some(0o120000) => Some((true, "symbolic link")),
            Some(0o020000) => Some((false, "character device")),
            Some(0o060000) => Some((false, "block device")),
            Some(0o010000) => Some((false, "FIFO")),
            Some(0o140000) => Some((false, "socket")),
            _ => None,
        };
        if let Some((is_link, kind)) = special {
            if matcher.on_the_way(&parts) {
                return Err(if is_link {
                    ArchiveError::Link { entry: name, kind }
                } else {
                    ArchiveError::SpecialFile { entry: name, kind }
                });
            }
            continue;
        }
        if let Some(wanted) = matcher.wanted_for(&parts) {
            check_size(&name, file.size(), caps)?;
            chosen.push((index, wanted.to_string(), name));
        }
    }
    for (index, wanted, name) in chosen {
        let file = archive.by_index(index).map_err(corrupt)?;
        let bytes = read_capped(Counted::new(file, &budget), &name, caps)
            .map_err(|e| budget.error(e, Format::Zip))??;
        let text = into_text(&name, bytes)?;
        matcher.add(&wanted, name, text);
    }
    Ok(())
}

fn file_kind(file_type: &fs::FileType) -> &'static str {
    if file_type.is_symlink() {
        "symbolic link"
    } else if file_type.is_fifo() {
        "FIFO"
    } else if file_type.is_socket() {
        "socket"
    } else if file_type.is_char_device() {
        "character device"
    } else if file_type.is_block_device() {
        "block device"
    } else if file_type.is_dir() {
        "folder"
    } else {
        "special file"
    }
}

/// Walks `root` without following any link (a symbolic link anywhere is
/// refused), reading the wanted files through descriptors opened with
/// `O_NOFOLLOW`.
fn read_directory(root: &Path, matcher: &mut Matcher, caps: &Caps) -> Result<(), ArchiveError> {
    let mut stack: Vec<(PathBuf, Vec<String>)> = vec![(root.to_path_buf(), Vec::new())];
    let mut total = 0u64;
    while let Some((dir, prefix)) = stack.pop() {
        let io_error = |error| ArchiveError::Io {
            path: dir.clone(),
            error,
        };
        let mut children: Vec<_> = fs::read_dir(&dir)
            .map_err(io_error)?
            .collect::<Result<_, _>>()
            .map_err(io_error)?;
        children.sort_by_key(|child| child.file_name());
        for child in children {
            matcher.count_entry(caps)?;
            let name = child.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            let mut parts = prefix.clone();
            parts.push(name.to_string());
            let entry = parts.join("/");
            let path = child.path();
            let metadata = fs::symlink_metadata(&path).map_err(|error| ArchiveError::Io {
                path: path.clone(),
                error,
            })?;
            let file_type = metadata.file_type();
            if file_type.is_symlink() {
                return Err(ArchiveError::Link {
                    entry,
                    kind: "symbolic link",
                });
            }
            let part_refs: Vec<&str> = parts.iter().map(String::as_str).collect();
            if file_type.is_dir() {
                if parts.len() >= caps.depth {
                    return Err(ArchiveError::TooDeep {
                        entry,
                        limit: caps.depth,
                    });
                }
                stack.push((path, parts));
                continue;
            }
            if !file_type.is_file() {
                if matcher.on_the_way(&part_refs) {
                    return Err(ArchiveError::SpecialFile {
                        entry,
                        kind: file_kind(&file_type),
                    });
                }
                continue;
            }
            let Some(wanted) = matcher.wanted_for(&part_refs).map(str::to_string) else {
                continue;
            };
            let bytes = read_regular_file(&path, &entry, caps)?;
            total += bytes.len() as u64;
            if total > caps.total_bytes {
                return Err(ArchiveError::TooMuchData {
                    limit: caps.total_bytes,
                });
            }
            let text = into_text(&entry, bytes)?;
            matcher.add(&wanted, entry, text);
        }
    }
    Ok(())
}

/// Opens without following a link or blocking on a FIFO, and checks what
/// was opened: a regular file with no other hard link.
fn read_regular_file(path: &Path, entry: &str, caps: &Caps) -> Result<Vec<u8>, ArchiveError> {
    let io_error = |error| ArchiveError::Io {
        path: path.to_path_buf(),
        error,
    };
    let file = File::options()
        .read(true)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK).bits())
        .open(path)
        .map_err(io_error)?;
    let metadata = file.metadata().map_err(io_error)?;
    if !metadata.is_file() {
        return Err(ArchiveError::SpecialFile {
            entry: entry.to_string(),
            kind: file_kind(&metadata.file_type()),
        });
    }
    if metadata.nlink() > 1 {
        return Err(ArchiveError::Link {
            entry: entry.to_string(),
            kind: "hard link",
        });
    }
    check_size(entry, metadata.len(), caps)?;
    read_capped(file, entry, caps).map_err(io_error)?
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use tempfile::TempDir;

    const RAFT: &str = "raft/src/raft.rs";
    const SOURCE: &str = "// a student's raft.rs\npub fn answer() {}\n";

    fn read(path: &Path) -> Result<Submission, ArchiveError> {
        read_submission(path, &[RAFT], &Caps::default())
    }

    fn text_of(submission: &Submission) -> (&str, &str) {
        let found = &submission.files[RAFT];
        (found.entry.as_str(), found.text.as_str())
    }

    /// A tar entry written header by header, so that paths and types the
    /// tar crate's builder refuses can be made.
    struct RawEntry<'a> {
        path: &'a [u8],
        kind: tar::EntryType,
        link: &'a str,
        data: &'a [u8],
    }

    fn file<'a>(path: &'a str, data: &'a [u8]) -> RawEntry<'a> {
        RawEntry {
            path: path.as_bytes(),
            kind: tar::EntryType::Regular,
            link: "",
            data,
        }
    }

    fn tar_bytes(entries: &[RawEntry<'_>]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for entry in entries {
            let mut header = tar::Header::new_gnu();
            let name = &mut header.as_old_mut().name;
            name[..entry.path.len()].copy_from_slice(entry.path);
            header.set_entry_type(entry.kind);
            header.set_mode(0o644);
            header.set_size(entry.data.len() as u64);
            if !entry.link.is_empty() {
                header.set_link_name(entry.link).unwrap();
            }
            header.set_cksum();
            builder.append(&header, entry.data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    enum ZipEntry<'a> {
        File(&'a str, &'a [u8]),
        Symlink(&'a str, &'a str),
    }

    fn zip_bytes(entries: &[ZipEntry<'_>]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        for entry in entries {
            match entry {
                ZipEntry::File(name, data) => {
                    writer.start_file(*name, options).unwrap();
                    writer.write_all(data).unwrap();
                }
                ZipEntry::Symlink(name, target) => {
                    writer.add_symlink(*name, *target, options).unwrap();
                }
            }
        }
        writer.finish().unwrap().into_inner()
    }

    fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn every_format_and_layout_is_read_by_its_content() {
        let dir = TempDir::new().unwrap();
        let cases: Vec<(&str, Vec<u8>, Format, &str)> = vec![
            (
                "alice.rs",
                SOURCE.as_bytes().to_vec(),
                Format::RustFile,
                "alice.rs",
            ),
            (
                "a.tar",
                tar_bytes(&[file("raft.rs", SOURCE.as_bytes())]),
                Format::Tar,
                "raft.rs",
            ),
            (
                "b.tgz",
                gzip(&tar_bytes(&[file(
                    "alice/raft/src/raft.rs",
                    SOURCE.as_bytes(),
                )])),
                Format::TarGz,
                "alice/raft/src/raft.rs",
            ),
            (
                "c.zip",
                zip_bytes(&[ZipEntry::File("raft/src/raft.rs", SOURCE.as_bytes())]),
                Format::Zip,
                "raft/src/raft.rs",
            ),
            // The name says zip, the content says tar.gz: content wins.
            (
                "grades.csv.zip",
                gzip(&tar_bytes(&[file("./bob/raft.rs", SOURCE.as_bytes())])),
                Format::TarGz,
                "./bob/raft.rs",
            ),
            // A zip without its extension.
            (
                "submission",
                zip_bytes(&[
                    ZipEntry::File("carol/README.md", b"hi"),
                    ZipEntry::File("carol/raft.rs", SOURCE.as_bytes()),
                ]),
                Format::Zip,
                "carol/raft.rs",
            ),
        ];
        for (name, bytes, format, entry) in cases {
            let submission =
                read(&write(&dir, name, &bytes)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(submission.format, format, "{name}");
            assert_eq!(text_of(&submission), (entry, SOURCE), "{name}");
        }
    }

    #[test]
    fn a_directory_is_walked_and_its_links_refused() {
        let dir = TempDir::new().unwrap();
        let root = dir.path().join("alice");
        fs::create_dir_all(root.join("raft/src")).unwrap();
        fs::write(root.join("raft/src/raft.rs"), SOURCE).unwrap();
        fs::write(root.join("notes.txt"), "x").unwrap();
        let submission = read(&root).unwrap();
        assert_eq!(submission.format, Format::Directory);
        assert_eq!(text_of(&submission), ("raft/src/raft.rs", SOURCE));

        // A symbolic link anywhere, even to a harmless file, is refused.
        std::os::unix::fs::symlink("/etc/hostname", root.join("notes.md")).unwrap();
        let error = read(&root).unwrap_err();
        assert!(
            matches!(&error, ArchiveError::Link { entry, .. } if entry == "notes.md"),
            "{error}"
        );
        fs::remove_file(root.join("notes.md")).unwrap();

        // A symlinked raft/src.
        fs::remove_dir_all(root.join("raft/src")).unwrap();
        fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
        fs::write(dir.path().join("elsewhere/raft.rs"), "// the reference\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), root.join("raft/src")).unwrap();
        let error = read(&root).unwrap_err();
        assert!(
            matches!(&error, ArchiveError::Link { entry, .. } if entry == "raft/src"),
            "{error}"
        );
        fs::remove_file(root.join("raft/src")).unwrap();

        // A hard link to a file outside the submission.
        fs::create_dir_all(root.join("raft/src")).unwrap();
        fs::hard_link(
            dir.path().join("elsewhere/raft.rs"),
            root.join("raft/src/raft.rs"),
        )
        .unwrap();
        let error = read(&root).unwrap_err();
        assert!(
            matches!(
                &error,
                ArchiveError::Link {
                    kind: "hard link",
                    ..
                }
            ),
            "{error}"
        );
        fs::remove_file(root.join("raft/src/raft.rs")).unwrap();

        // A FIFO where raft.rs should be: refused, never opened for a read
        // that would block.
        nix::unistd::mkfifo(
            &root.join("raft/src/raft.rs"),
            nix::sys::stat::Mode::S_IRWXU,
        )
        .unwrap();
        let error = read(&root).unwrap_err();
        assert!(
            matches!(&error, ArchiveError::SpecialFile { kind: "FIFO", .. }),
            "{error}"
        );

        // The submission itself a link.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&root, &link).unwrap();
        assert!(matches!(
            read(&link).unwrap_err(),
            ArchiveError::Link { .. }
        ));
    }

    #[test]
    fn paths_leaving_the_submission_are_refused_anywhere() {
        let dir = TempDir::new().unwrap();
        for bad in [
            "../raft.rs",
            "alice/../../etc/passwd",
            "/etc/raft.rs",
            "a/./../../x",
        ] {
            let tar = tar_bytes(&[file("raft.rs", SOURCE.as_bytes()), file(bad, b"x")]);
            let error = read(&write(&dir, "t.tar", &tar)).unwrap_err();
            assert!(
                matches!(&error, ArchiveError::UnsafePath { entry } if entry == bad),
                "tar {bad}: {error}"
            );
            let zip = zip_bytes(&[
                ZipEntry::File("raft.rs", SOURCE.as_bytes()),
                ZipEntry::File(bad, b"x"),
            ]);
            let error = read(&write(&dir, "t.zip", &zip)).unwrap_err();
            assert!(
                matches!(&error, ArchiveError::UnsafePath { .. }),
                "zip {bad}: {error}"
            );
        }
        let zip = zip_bytes(&[ZipEntry::File("..\\..\\raft.rs", SOURCE.as_bytes())]);
        let error = read(&write(&dir, "w.zip", &zip)).unwrap_err();
        assert!(matches!(&error, ArchiveError::UnsafePath { .. }), "{error}");
    }

    #[test]
    fn links_and_special_entries_on_the_way_are_refused() {
        let dir = TempDir::new().unwrap();
        let link = |path: &'static str, kind, target: &'static str| RawEntry {
            path: path.as_bytes(),
            kind,
            link: target,
            data: b"",
        };
        let cases = [
            // A symlinked raft/src, then a file "inside" it.
            vec![
                link("raft/src", tar::EntryType::Symlink, "/work/main/solutions"),
                file("raft/src/raft.rs", SOURCE.as_bytes()),
            ],
            vec![link(
                "raft.rs",
                tar::EntryType::Symlink,
                "/work/main/solutions/raft.rs",
            )],
            vec![link(
                "alice",
                tar::EntryType::Symlink,
                "/work/main/solutions",
            )],
            vec![link(
                "alice/raft.rs",
                tar::EntryType::Link,
                "/work/main/solutions/raft.rs",
            )],
            vec![RawEntry {
                path: b"raft.rs",
                kind: tar::EntryType::Char,
                link: "",
                data: b"",
            }],
        ];
        for entries in &cases {
            let path = write(&dir, "t.tar", &tar_bytes(entries));
            let error = read(&path).unwrap_err();
            assert!(
                matches!(
                    error,
                    ArchiveError::Link { .. } | ArchiveError::SpecialFile { .. }
                ),
                "{:?}: {error}",
                String::from_utf8_lossy(entries[0].path)
            );
        }
        // A link elsewhere is harmless: nothing is followed.
        let entries = [
            link("alice/docs/notes", tar::EntryType::Symlink, "/etc/passwd"),
            file("alice/raft.rs", SOURCE.as_bytes()),
        ];
        let submission = read(&write(&dir, "ok.tar", &tar_bytes(&entries))).unwrap();
        assert_eq!(text_of(&submission), ("alice/raft.rs", SOURCE));

        let zip = zip_bytes(&[ZipEntry::Symlink("raft/src", "/work/main/solutions")]);
        let error = read(&write(&dir, "l.zip", &zip)).unwrap_err();
        assert!(
            matches!(&error, ArchiveError::Link { entry, .. } if entry == "raft/src"),
            "{error}"
        );
    }

    fn octal(field: &mut [u8], value: u64) {
        let text = format!("{value:0width$o}\0", width = field.len() - 1);
        field.copy_from_slice(text.as_bytes());
    }

    #[test]
    fn a_sparse_entry_is_refused() {
        // A GNU sparse raft.rs: a hole, then its stored bytes at the end.
        let dir = TempDir::new().unwrap();
        let mut header = tar::Header::new_gnu();
        header.as_old_mut().name[..7].copy_from_slice(b"raft.rs");
        header.set_entry_type(tar::EntryType::GNUSparse);
        header.set_mode(0o644);
        header.set_size(SOURCE.len() as u64);
        let gnu = header.as_gnu_mut().unwrap();
        octal(&mut gnu.realsize, 1 << 20);
        octal(&mut gnu.sparse[0].offset, (1 << 20) - SOURCE.len() as u64);
        octal(&mut gnu.sparse[0].numbytes, SOURCE.len() as u64);
        header.set_cksum();
        let mut builder = tar::Builder::new(Vec::new());
        builder.append(&header, SOURCE.as_bytes()).unwrap();
        let tar = builder.into_inner().unwrap();
        let error = read(&write(&dir, "s.tar", &tar)).unwrap_err();
        assert!(
            matches!(
                &error,
                ArchiveError::SpecialFile {
                    kind: "sparse file",
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn bombs_stop_at_the_caps() {
        let dir = TempDir::new().unwrap();
        let zeros = vec![0u8; 100 << 20];
        // A 100 MiB raft.rs of zeros, deflated to about 100 KiB.
        let zip = zip_bytes(&[ZipEntry::File("raft.rs", &zeros)]);
        assert!(zip.len() < 1 << 20, "the bomb is {} bytes", zip.len());
        let error = read(&write(&dir, "bomb.zip", &zip)).unwrap_err();
        assert!(
            matches!(&error, ArchiveError::FileTooLarge { .. }),
            "{error}"
        );

        // 100 MiB of filler before raft.rs: the unpacked total passes 64 MiB
        // while the filler is skipped.
        let tgz = gzip(&tar_bytes(&[
            file("filler", &zeros),
            file("raft.rs", SOURCE.as_bytes()),
        ]));
        assert!(tgz.len() < 1 << 20);
        let error = read(&write(&dir, "bomb.tgz", &tgz)).unwrap_err();
        assert!(
            matches!(&error, ArchiveError::TooMuchData { .. }),
            "{error}"
        );

        // A tar entry whose header claims a huge size.
        let mut tar = tar_bytes(&[file("raft.rs", SOURCE.as_bytes())]);
        let mut header = tar::Header::from_byte_slice(&tar[..512]).clone();
        header.set_size(1 << 40);
        header.set_cksum();
        tar[..512].copy_from_slice(header.as_bytes());
        let error = read(&write(&dir, "claims.tar", &tar)).unwrap_err();
        assert!(
            matches!(&error, ArchiveError::FileTooLarge { .. }),
            "{error}"
        );

        // Too many entries, in a tar and in a zip.
        let caps = Caps {
            entries: 50,
            ..Caps::default()
        };
        let names: Vec<String> = (0..51).map(|i| format!("f{i}")).collect();
        let entries: Vec<RawEntry<'_>> = names.iter().map(|n| file(n, b"")).collect();
        let path = write(&dir, "many.tar", &tar_bytes(&entries));
        let error = read_submission(&path, &[RAFT], &caps).unwrap_err();
        assert!(
            matches!(&error, ArchiveError::TooManyEntries { limit: 50 }),
            "{error}"
        );
        let entries: Vec<ZipEntry<'_>> = names.iter().map(|n| ZipEntry::File(n, b"")).collect();
        let path = write(&dir, "many.zip", &zip_bytes(&entries));
        let error = read_submission(&path, &[RAFT], &caps).unwrap_err();
        assert!(
            matches!(&error, ArchiveError::TooManyEntries { limit: 50 }),
            "{error}"
        );

        // A submission file larger than the total cap is not even read.
        let caps = Caps {
            total_bytes: 1000,
            ..Caps::default()
        };
        let path = write(&dir, "big.rs", &[b' '; 2000]);
        let error = read_submission(&path, &[RAFT], &caps).unwrap_err();
        assert!(
            matches!(&error, ArchiveError::TooMuchData { limit: 1000 }),
            "{error}"
        );
    }

    #[test]
    fn several_candidates_are_an_ambiguous_submission_naming_them() {
        let dir = TempDir::new().unwrap();
        let tar = tar_bytes(&[
            file("raft.rs", SOURCE.as_bytes()),
            file("raft/src/raft.rs", SOURCE.as_bytes()),
        ]);
        let error = read(&write(&dir, "two.tar", &tar)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "ambiguous submission: 2 entries could be raft/src/raft.rs: raft.rs, raft/src/raft.rs; \
             submit exactly one"
        );
        // The same name twice (a later tar entry would overwrite the first
        // when extracted).
        let tar = tar_bytes(&[file("raft.rs", b"// one\n"), file("raft.rs", b"// two\n")]);
        let error = read(&write(&dir, "dup.tar", &tar)).unwrap_err();
        assert!(
            matches!(&error, ArchiveError::Ambiguous { candidates, .. } if candidates.len() == 2),
            "{error}"
        );
        // Two top-level folders each with one.
        let zip = zip_bytes(&[
            ZipEntry::File("a/raft.rs", SOURCE.as_bytes()),
            ZipEntry::File("b/raft/src/raft.rs", SOURCE.as_bytes()),
        ]);
        let error = read(&write(&dir, "two.zip", &zip)).unwrap_err();
        assert!(
            matches!(&error, ArchiveError::Ambiguous { candidates, .. } if candidates == &["a/raft.rs", "b/raft/src/raft.rs"]),
            "{error}"
        );
        // A zip whose central directory names one file twice.
        let mut zip = zip_bytes(&[
            ZipEntry::File("raft.rs", b"// one\n"),
            ZipEntry::File("raft.rx", b"// two\n"),
        ]);
        replace_all(&mut zip, b"raft.rx", b"raft.rs");
        let error = read(&write(&dir, "dup.zip", &zip)).unwrap_err();
        assert!(matches!(&error, ArchiveError::DuplicateNames), "{error}");
    }

    fn replace_all(bytes: &mut [u8], from: &[u8], to: &[u8]) {
        let mut i = 0;
        while i + from.len() <= bytes.len() {
            if &bytes[i..i + from.len()] == from {
                bytes[i..i + from.len()].copy_from_slice(to);
            }
            i += 1;
        }
    }

    #[test]
    fn missing_empty_nested_and_non_utf8_submissions() {
        let dir = TempDir::new().unwrap();
        let error = read(&write(&dir, "empty.tar", &tar_bytes(&[]))).unwrap_err();
        assert!(matches!(error, ArchiveError::Empty), "{error}");
        let error = read(&write(&dir, "empty.zip", &zip_bytes(&[]))).unwrap_err();
        assert!(matches!(error, ArchiveError::Empty), "{error}");
        let error = read(&write(&dir, "empty.tgz", &gzip(&tar_bytes(&[])))).unwrap_err();
        assert!(matches!(error, ArchiveError::Empty), "{error}");

        // raft.rs inside an inner zip is not looked at.
        let inner = zip_bytes(&[ZipEntry::File("raft.rs", SOURCE.as_bytes())]);
        let outer = tar_bytes(&[file("alice/raft.zip", &inner)]);
        let error = read(&write(&dir, "nested.tar", &outer)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "no raft/src/raft.rs in the submission (looked for raft.rs and raft/src/raft.rs, \
             at the top or under one top-level folder)"
        );
        // Too deep for a candidate: two folders before raft.rs.
        let tar = tar_bytes(&[file("a/b/raft.rs", SOURCE.as_bytes())]);
        assert!(matches!(
            read(&write(&dir, "deep.tar", &tar)).unwrap_err(),
            ArchiveError::Missing { .. }
        ));

        // A raft.rs that is not UTF-8.
        let tar = tar_bytes(&[file("raft.rs", b"fn main() {} \xff\xfe")]);
        let error = read(&write(&dir, "latin.tar", &tar)).unwrap_err();
        assert!(
            matches!(&error, ArchiveError::NotUtf8 { entry } if entry == "raft.rs"),
            "{error}"
        );
        let error = read(&write(&dir, "latin.rs", b"// \xe9t\xe9\n")).unwrap_err();
        assert!(matches!(&error, ArchiveError::NotUtf8 { .. }), "{error}");

        // An entry whose name is not UTF-8 is skipped; raft.rs is still found.
        let tar = tar_bytes(&[
            RawEntry {
                path: b"caf\xe9.txt",
                kind: tar::EntryType::Regular,
                link: "",
                data: b"x",
            },
            file("raft.rs", SOURCE.as_bytes()),
        ]);
        let submission = read(&write(&dir, "names.tar", &tar)).unwrap();
        assert_eq!(text_of(&submission), ("raft.rs", SOURCE));

        // Neither an archive nor a .rs file.
        let error = read(&write(&dir, "notes.txt", b"hello")).unwrap_err();
        assert!(
            matches!(error, ArchiveError::UnknownFormat { .. }),
            "{error}"
        );
        let error = read(&write(
            &dir,
            "x.tgz",
            &gzip(b"just text, long enough to be text"),
        ))
        .unwrap_err();
        assert!(
            matches!(error, ArchiveError::UnknownFormat { .. }),
            "{error}"
        );
        let error = read(&write(
            &dir,
            "trunc.zip",
            &zip_bytes(&[ZipEntry::File("raft.rs", SOURCE.as_bytes())])[..40],
        ))
        .unwrap_err();
        assert!(matches!(error, ArchiveError::Corrupt { .. }), "{error}");
    }

    #[test]
    fn several_wanted_files_are_found_together() {
        let dir = TempDir::new().unwrap();
        let tar = tar_bytes(&[
            file("alice/raft/src/raft.rs", SOURCE.as_bytes()),
            file("alice/raft/src/log.rs", b"// log\n"),
        ]);
        let path = write(&dir, "two.tar", &tar);
        let submission = read_submission(
            &path,
            &["raft/src/raft.rs", "raft/src/log.rs"],
            &Caps::default(),
        )
        .unwrap();
        assert_eq!(submission.files["raft/src/log.rs"].text, "// log\n");
        assert_eq!(submission.files[RAFT].entry, "alice/raft/src/raft.rs");
        // One .rs file cannot stand for two wanted files.
        let path = write(&dir, "one.rs", SOURCE.as_bytes());
        let error = read_submission(
            &path,
            &["raft/src/raft.rs", "raft/src/log.rs"],
            &Caps::default(),
        )
        .unwrap_err();
        assert!(
            matches!(error, ArchiveError::UnknownFormat { .. }),
            "{error}"
        );
    }
}
