//! Fetching the official dataset files when they are not on disk yet.
//!
//! CIFAR-10 comes as one tarball whose `cifar-10-batches-bin/` entries are extracted into
//! `<data_dir>/cifar-10-batches-bin/`; Fashion-MNIST comes as four `.gz` files kept as they are in
//! `<data_dir>/fashion-mnist/`. Every download is written to a `.part` file, checked against its
//! published MD5 and only then renamed into place, so an interrupted or corrupt download never
//! looks like a finished one. The extracted files are checked against the official checksums.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use flate2::read::GzDecoder;
use indicatif::{ProgressBar, ProgressStyle};
use lethe_shared::data::DatasetKind;
use lethe_shared::data::checksum::{self, CIFAR10_ARCHIVE, official_downloads, official_files};
use md5::{Digest, Md5};

/// Makes sure every file of `kind` is present under `data_dir` (in `kind.subdir()`), downloading
/// it from the official source when `allow_download` is true.
///
/// Files that are already present are trusted as they are (no checksum pass, which would cost a
/// second or so per run); downloaded and extracted files are verified.
///
/// # Errors
/// If files are missing and downloading is not allowed, or if a download, checksum or
/// extraction fails; the message names the URL or file and, for checksums, both digests.
pub fn ensure_dataset(kind: DatasetKind, data_dir: &Path, allow_download: bool) -> Result<()> {
    let missing = missing_files(kind, data_dir);
    if missing.is_empty() {
        return Ok(());
    }
    let listing: Vec<String> = missing
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    if !allow_download {
        bail!(
            "{kind} is not in {}: missing {}. Point --data-dir or LETHE_DATA_DIR at a directory \
             holding `{}/`, or allow downloading it from the official source (drop --no-download)",
            data_dir.display(),
            listing.join(", "),
            kind.subdir()
        );
    }

    let dataset_dir = kind.dir(data_dir);
    fs::create_dir_all(&dataset_dir)
        .with_context(|| format!("cannot create {}", dataset_dir.display()))?;
    match kind {
        DatasetKind::Cifar10 => {
            let archive = data_dir.join(CIFAR10_ARCHIVE.file_name);
            if is_verified_download(&archive, CIFAR10_ARCHIVE.md5) {
                eprintln!("using the already downloaded {}", archive.display());
            } else {
                download_verified(CIFAR10_ARCHIVE.url, CIFAR10_ARCHIVE.md5, &archive)?;
            }
            extract_cifar10_archive(&archive, data_dir)?;
            verify_dataset_files(kind, &dataset_dir)?;
            // The tarball (163 MiB) is no longer needed once its contents check out.
            fs::remove_file(&archive)
                .with_context(|| format!("cannot remove {}", archive.display()))?;
        }
        DatasetKind::FashionMnist => {
            for download in official_downloads(kind) {
                let destination = dataset_dir.join(download.file_name);
                if missing.contains(&destination) {
                    download_verified(download.url, download.md5, &destination)?;
                }
            }
            verify_dataset_files(kind, &dataset_dir)?;
        }
    }
    Ok(())
}

/// The official files of `kind` absent from `data_dir`, named as published. A Fashion-MNIST file
/// counts as present in either gzip or decompressed form, as the readers accept both.
pub fn missing_files(kind: DatasetKind, data_dir: &Path) -> Vec<PathBuf> {
    let dataset_dir = kind.dir(data_dir);
    official_files(kind)
        .iter()
        .filter(|file| {
            let decompressed_present = file
                .decompressed
                .is_some_and(|raw| dataset_dir.join(raw.name).is_file());
            !dataset_dir.join(file.stored.name).is_file() && !decompressed_present
        })
        .map(|file| dataset_dir.join(file.stored.name))
        .collect()
}

/// Checks every file of `kind` in `dataset_dir` against the official checksums.
pub fn verify_dataset_files(kind: DatasetKind, dataset_dir: &Path) -> Result<()> {
    checksum::verify_dataset_dir(kind, dataset_dir).with_context(|| {
        format!(
            "{kind} files in {} failed verification",
            dataset_dir.display()
        )
    })
}

/// Downloads `url` to `destination` through a `.part` file, with a progress bar, and renames it
/// into place only if its MD5 is `expected_md5`.
pub fn download_verified(url: &str, expected_md5: &str, destination: &Path) -> Result<()> {
    download_with_agent(
        &ureq::Agent::new_with_defaults(),
        url,
        expected_md5,
        destination,
    )
}

/// [`download_verified`] with a given HTTP agent.
fn download_with_agent(
    agent: &ureq::Agent,
    url: &str,
    expected_md5: &str,
    destination: &Path,
) -> Result<()> {
    let partial = partial_path(destination);
    let result = fetch_to_file(agent, url, &partial).and_then(|actual_md5| {
        check_md5(url, expected_md5, &actual_md5)?;
        fs::rename(&partial, destination).with_context(|| {
            format!(
                "cannot move {} to {}",
                partial.display(),
                destination.display()
            )
        })
    });
    if result.is_err() {
        // Best effort: the error being returned matters more than a leftover `.part` file.
        let _ = fs::remove_file(&partial);
    }
    result
}

/// Streams `url` into `path` and returns the MD5 of what was written.
fn fetch_to_file(agent: &ureq::Agent, url: &str, path: &Path) -> Result<String> {
    eprintln!("downloading {url}");
    let response = agent
        .get(url)
        .call()
        .with_context(|| format!("downloading {url} failed"))?;
    let progress = progress_bar(response.body().content_length(), url)?;
    let mut reader = progress.wrap_read(response.into_body().into_reader());
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = BufWriter::new(file);
    let (bytes, md5) = copy_hashing(&mut reader, &mut writer)
        .with_context(|| format!("downloading {url} into {} failed", path.display()))?;
    let file = writer
        .into_inner()
        .map_err(io::IntoInnerError::into_error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("cannot write {}", path.display()))?;
    progress.finish_and_clear();
    eprintln!("downloaded {bytes} bytes from {url}");
    Ok(md5)
}

/// A byte progress bar with rate and ETA, or a spinner when the length is unknown.
fn progress_bar(length: Option<u64>, url: &str) -> Result<ProgressBar> {
    let name = url.rsplit('/').next().unwrap_or(url).to_owned();
    let progress = match length {
        Some(length) => ProgressBar::new(length).with_style(
            ProgressStyle::with_template(
                "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta})",
            )?
            .progress_chars("=> "),
        ),
        None => ProgressBar::new_spinner().with_style(ProgressStyle::with_template(
            "{msg} {spinner} {bytes} ({bytes_per_sec})",
        )?),
    };
    progress.set_message(name);
    Ok(progress)
}

/// Copies `reader` into `writer`, returning the byte count and the MD5 of the bytes.
pub fn copy_hashing(reader: &mut impl Read, writer: &mut impl Write) -> io::Result<(u64, String)> {
    let mut hasher = Md5::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        hasher.update(&buffer[..read]);
        writer.write_all(&buffer[..read])?;
        total += read as u64;
    }
    writer.flush()?;
    let md5 = hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Ok((total, md5))
}

/// Fails, naming `source` and both digests, unless `actual` equals `expected` (ignoring case).
pub fn check_md5(source: &str, expected: &str, actual: &str) -> Result<()> {
    if expected.eq_ignore_ascii_case(actual) {
        Ok(())
    } else {
        bail!(
            "md5 checksum mismatch for {source}: expected {expected}, got {actual} \
             (corrupt or incomplete download; try again)"
        )
    }
}

/// Whether `path` exists and has MD5 `expected_md5`.
fn is_verified_download(path: &Path, expected_md5: &str) -> bool {
    path.is_file()
        && checksum::file_digests(path, false)
            .is_ok_and(|digests| digests.md5.eq_ignore_ascii_case(expected_md5))
}

/// `<destination>.part`, next to `destination`.
fn partial_path(destination: &Path) -> PathBuf {
    let mut name = destination
        .file_name()
        .map(|name| name.to_os_string())
        .unwrap_or_default();
    name.push(".part");
    destination.with_file_name(name)
}

/// Extracts the regular files directly under `cifar-10-batches-bin/` in the tar.gz `archive`
/// into `data_dir/cifar-10-batches-bin/` (each through a `.part` file, then renamed). Other
/// entries, nested paths and anything that is not a plain file are skipped, so the archive cannot
/// write outside that directory. Returns the extracted paths.
///
/// # Errors
/// If the archive cannot be read, or lacks one of the six batch files.
pub fn extract_cifar10_archive(archive: &Path, data_dir: &Path) -> Result<Vec<PathBuf>> {
    let subdir = DatasetKind::Cifar10.subdir();
    let target_dir = DatasetKind::Cifar10.dir(data_dir);
    fs::create_dir_all(&target_dir)
        .with_context(|| format!("cannot create {}", target_dir.display()))?;
    let file = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let mut tarball = tar::Archive::new(GzDecoder::new(io::BufReader::new(file)));
    let corrupt = || format!("cannot read the archive {}", archive.display());
    let mut extracted = Vec::new();
    for entry in tarball.entries().with_context(corrupt)? {
        let mut entry = entry.with_context(corrupt)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let entry_path = entry.path().with_context(corrupt)?.into_owned();
        let Some(file_name) = file_directly_under(&entry_path, subdir) else {
            continue;
        };
        let destination = target_dir.join(file_name);
        let partial = partial_path(&destination);
        let written = File::create(&partial)
            .and_then(|mut output| io::copy(&mut entry, &mut output).map(|_| output))
            .and_then(|output| output.sync_all())
            .and_then(|()| fs::rename(&partial, &destination));
        if let Err(error) = written {
            let _ = fs::remove_file(&partial);
            return Err(error).with_context(|| {
                format!(
                    "extracting {} from {} into {} failed",
                    entry_path.display(),
                    archive.display(),
                    destination.display()
                )
            });
        }
        extracted.push(destination);
    }
    for file in official_files(DatasetKind::Cifar10) {
        if !extracted.contains(&target_dir.join(file.stored.name)) {
            bail!(
                "the archive {} has no {subdir}/{}; is it the official {}?",
                archive.display(),
                file.stored.name,
                CIFAR10_ARCHIVE.url
            );
        }
    }
    Ok(extracted)
}

/// The file name of `path` if it is exactly `<dir>/<name>` (a leading `./` allowed).
fn file_directly_under<'a>(path: &'a Path, dir: &str) -> Option<&'a std::ffi::OsStr> {
    let mut components = path
        .components()
        .filter(|component| !matches!(component, Component::CurDir));
    match (components.next(), components.next(), components.next()) {
        (Some(Component::Normal(first)), Some(Component::Normal(name)), None) if first == dir => {
            Some(name)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use lethe_shared::data::checksum::{CIFAR10_FILES, FASHION_MNIST_FILES};
    use std::net::TcpListener;

    /// Writes a tar.gz holding `entries` (path, contents) plus a directory entry.
    fn write_tar_gz(path: &Path, entries: &[(&str, &[u8])]) {
        let file = File::create(path).expect("create archive");
        let mut builder = tar::Builder::new(GzEncoder::new(file, Compression::fast()));
        let mut directory = tar::Header::new_gnu();
        directory.set_entry_type(tar::EntryType::Directory);
        directory.set_mode(0o755);
        directory.set_size(0);
        builder
            .append_data(&mut directory, "cifar-10-batches-bin/", io::empty())
            .expect("append dir");
        for (name, contents) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(contents.len() as u64);
            header.set_mode(0o644);
            builder
                .append_data(&mut header, name, *contents)
                .expect("append file");
        }
        builder
            .into_inner()
            .expect("finish tar")
            .finish()
            .expect("finish gzip");
    }

    fn all_batch_entries() -> Vec<(String, Vec<u8>)> {
        CIFAR10_FILES
            .iter()
            .map(|file| {
                (
                    format!("cifar-10-batches-bin/{}", file.stored.name),
                    file.stored.name.as_bytes().to_vec(),
                )
            })
            .collect()
    }

    #[test]
    fn extracts_only_the_batch_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let archive = dir.path().join("cifar.tar.gz");
        let batches = all_batch_entries();
        let mut entries: Vec<(&str, &[u8])> = batches
            .iter()
            .map(|(name, contents)| (name.as_str(), contents.as_slice()))
            .collect();
        entries.push(("cifar-10-batches-bin/readme.html", b"<html>"));
        entries.push(("./cifar-10-batches-bin/batches.meta.txt", b"airplane\n"));
        entries.push(("elsewhere/data_batch_1.bin", b"not this one"));
        entries.push(("cifar-10-batches-bin/nested/deep.bin", b"nor this"));
        write_tar_gz(&archive, &entries);

        let data_dir = dir.path().join("data");
        let extracted = extract_cifar10_archive(&archive, &data_dir).expect("extracts");
        assert_eq!(extracted.len(), 8);
        let target = data_dir.join("cifar-10-batches-bin");
        assert_eq!(
            fs::read(target.join("data_batch_1.bin")).expect("extracted"),
            b"data_batch_1.bin"
        );
        assert_eq!(
            fs::read(target.join("batches.meta.txt")).expect("extracted"),
            b"airplane\n"
        );
        assert!(!target.join("nested").exists());
        assert!(!data_dir.join("elsewhere").exists());
        assert!(fs::read_dir(&target).expect("list").all(|entry| {
            !entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .ends_with(".part")
        }));

        // The fake contents fail the official checksums, naming the file and both digests.
        let error = verify_dataset_files(DatasetKind::Cifar10, &target).expect_err("fake data");
        let message = format!("{error:#}");
        assert!(message.contains("data_batch_1.bin"), "{message}");
        assert!(
            message.contains("truncated: expected 30730000 bytes"),
            "{message}"
        );
    }

    #[test]
    fn archive_without_batches_is_rejected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let archive = dir.path().join("cifar.tar.gz");
        write_tar_gz(&archive, &[("cifar-10-batches-bin/data_batch_1.bin", b"x")]);
        let error = extract_cifar10_archive(&archive, dir.path()).expect_err("incomplete");
        assert!(error.to_string().contains("data_batch_2.bin"), "{error}");

        fs::write(&archive, b"this is not gzip").expect("write");
        let error = extract_cifar10_archive(&archive, dir.path()).expect_err("not an archive");
        assert!(format!("{error:#}").contains("cifar.tar.gz"), "{error:#}");
    }

    #[test]
    fn present_files_need_no_download() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fashion = dir.path().join("fashion-mnist");
        fs::create_dir_all(&fashion).expect("mkdir");
        for (index, file) in FASHION_MNIST_FILES.iter().enumerate() {
            // One file present decompressed only: still counts as present.
            let name = match (index, file.decompressed) {
                (0, Some(raw)) => raw.name,
                _ => file.stored.name,
            };
            fs::write(fashion.join(name), b"").expect("write");
        }
        assert!(missing_files(DatasetKind::FashionMnist, dir.path()).is_empty());
        ensure_dataset(DatasetKind::FashionMnist, dir.path(), false).expect("all present");
    }

    #[test]
    fn missing_files_without_download_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = missing_files(DatasetKind::Cifar10, dir.path());
        assert_eq!(missing.len(), 6);
        let error = ensure_dataset(DatasetKind::Cifar10, dir.path(), false).expect_err("missing");
        let message = error.to_string();
        assert!(message.contains("test_batch.bin"), "{message}");
        assert!(message.contains("LETHE_DATA_DIR"), "{message}");
    }

    #[test]
    fn md5_helpers() {
        let mut output = Vec::new();
        let (bytes, md5) = copy_hashing(&mut &b"abc"[..], &mut output).expect("copies");
        assert_eq!(
            (bytes, md5.as_str()),
            (3, "900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(output, b"abc");
        check_md5("u", "ABC", "abc").expect("case-insensitive");
        let message = check_md5("https://example.org/f.gz", "aaaa", "bbbb")
            .expect_err("mismatch")
            .to_string();
        assert!(message.contains("https://example.org/f.gz"), "{message}");
        assert!(message.contains("expected aaaa, got bbbb"), "{message}");
        assert_eq!(
            partial_path(Path::new("/d/f.tar.gz")),
            Path::new("/d/f.tar.gz.part")
        );
    }

    /// Serves `responses` (status line, body), one per connection, on a local port.
    fn serve(responses: Vec<(&'static str, Vec<u8>)>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            for (status, body) in responses {
                let Ok((mut stream, _)) = listener.accept() else {
                    return;
                };
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n")
                    && stream.read(&mut byte).is_ok_and(|n| n == 1)
                {
                    request.push(byte[0]);
                }
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        format!("http://{address}/file.gz")
    }

    fn local_agent() -> ureq::Agent {
        ureq::Agent::config_builder().proxy(None).build().into()
    }

    #[test]
    fn download_from_local_server() {
        let body = b"abc".to_vec();
        let url = serve(vec![
            ("200 OK", body.clone()),
            ("200 OK", body.clone()),
            ("404 Not Found", Vec::new()),
        ]);
        let dir = tempfile::tempdir().expect("tempdir");
        let destination = dir.path().join("file.gz");

        download_with_agent(
            &local_agent(),
            &url,
            "900150983cd24fb0d6963f7d28e17f72",
            &destination,
        )
        .expect("matching download");
        assert_eq!(fs::read(&destination).expect("downloaded"), body);
        fs::remove_file(&destination).expect("remove");

        let error =
            download_with_agent(&local_agent(), &url, "0123", &destination).expect_err("wrong md5");
        let message = format!("{error:#}");
        assert!(
            message.contains(&url) && message.contains("expected 0123"),
            "{message}"
        );
        assert!(!destination.exists() && !partial_path(&destination).exists());

        let error =
            download_with_agent(&local_agent(), &url, "0123", &destination).expect_err("404");
        let message = format!("{error:#}");
        assert!(
            message.contains(&url) && message.contains("404"),
            "{message}"
        );
    }
}
