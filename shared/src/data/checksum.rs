//! Official checksums and download locations of the dataset files, and helpers to verify them.
//!
//! The values come from the data README (`shared/data/README.md`): md5 of every file of both
//! datasets as published upstream, sha256 of the six CIFAR-10 `.bin` files, and for
//! Fashion-MNIST also the md5 of each decompressed file (the readers accept raw IDX files too).
//! `batches.meta.txt` is not listed: the shared copy was recreated and need not match the
//! tarball's byte for byte.

use std::fmt;
use std::io::Read;
use std::path::Path;

use md5::{Digest, Md5};
use sha2::Sha256;

use super::{DataError, DatasetKind, io_error};

/// A hash function used for checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// MD5, as published by both datasets.
    Md5,
    /// SHA-256, published for the CIFAR-10 `.bin` files by third-party loaders.
    Sha256,
}

impl HashAlgorithm {
    /// `"md5"` or `"sha256"`.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Md5 => "md5",
            HashAlgorithm::Sha256 => "sha256",
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An expected digest: algorithm and lower-case hex value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Checksum {
    /// The hash function.
    pub algorithm: HashAlgorithm,
    /// Expected digest, lower-case hex.
    pub hex: &'static str,
}

impl Checksum {
    /// An expected MD5 digest.
    pub const fn md5(hex: &'static str) -> Self {
        Checksum {
            algorithm: HashAlgorithm::Md5,
            hex,
        }
    }

    /// An expected SHA-256 digest.
    pub const fn sha256(hex: &'static str) -> Self {
        Checksum {
            algorithm: HashAlgorithm::Sha256,
            hex,
        }
    }
}

/// Size and digests one dataset file must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExpectedFile {
    /// File name inside the dataset directory.
    pub name: &'static str,
    /// Exact size in bytes.
    pub size: u64,
    /// MD5, lower-case hex.
    pub md5: &'static str,
    /// SHA-256, lower-case hex, where a published value exists.
    pub sha256: Option<&'static str>,
}

impl ExpectedFile {
    /// Every digest this file is checked against (MD5 first).
    pub fn checksums(&self) -> Vec<Checksum> {
        let mut checksums = vec![Checksum::md5(self.md5)];
        checksums.extend(self.sha256.map(Checksum::sha256));
        checksums
    }
}

/// One file of an official dataset release, with the decompressed form the readers also accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OfficialFile {
    /// The file as published (for Fashion-MNIST the `.gz`).
    pub stored: ExpectedFile,
    /// For gzip files, the decompressed file.
    pub decompressed: Option<ExpectedFile>,
}

/// The six CIFAR-10 batch files.
pub const CIFAR10_FILES: [OfficialFile; 6] = [
    cifar_file(
        "data_batch_1.bin",
        "5dd7e06a14cb22eb9f671a540d1b7c25",
        "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
    ),
    cifar_file(
        "data_batch_2.bin",
        "5ea93a67294ea407fff1d09f752e9692",
        "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
    ),
    cifar_file(
        "data_batch_3.bin",
        "942cd6a4bcdd0dd3c604fbe906cb4421",
        "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
    ),
    cifar_file(
        "data_batch_4.bin",
        "ae636b3ba5c66a11e91e8cb52e771fcb",
        "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
    ),
    cifar_file(
        "data_batch_5.bin",
        "53f37980c15c3d472c316c40844f3f0d",
        "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
    ),
    cifar_file(
        "test_batch.bin",
        "803d5f7f4d78ea53de84dbe85f74fb6d",
        "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
    ),
];

/// The four Fashion-MNIST files (gzip as published; decompressed digests too).
pub const FASHION_MNIST_FILES: [OfficialFile; 4] = [
    fashion_file(
        (
            "train-images-idx3-ubyte.gz",
            26_421_880,
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        ),
        (
            "train-images-idx3-ubyte",
            47_040_016,
            "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        ),
    ),
    fashion_file(
        (
            "train-labels-idx1-ubyte.gz",
            29_515,
            "25c81989df183df01b3e8a0aad5dffbe",
        ),
        (
            "train-labels-idx1-ubyte",
            60_008,
            "9018921c3c673c538a1fc5bad174d6f9",
        ),
    ),
    fashion_file(
        (
            "t10k-images-idx3-ubyte.gz",
            4_422_102,
            "bef4ecab320f06d8554ea6380940ec79",
        ),
        (
            "t10k-images-idx3-ubyte",
            7_840_016,
            "8181f5470baa50b63fa0f6fddb340f0a",
        ),
    ),
    fashion_file(
        (
            "t10k-labels-idx1-ubyte.gz",
            5_148,
            "bb300cfdad3c16e7a12a480ee83cd310",
        ),
        (
            "t10k-labels-idx1-ubyte",
            10_008,
            "15d484375f8d13e6eb1aabb0c3f46965",
        ),
    ),
];

/// Builds a CIFAR-10 table entry (every batch file is 30,730,000 bytes).
const fn cifar_file(name: &'static str, md5: &'static str, sha256: &'static str) -> OfficialFile {
    OfficialFile {
        stored: ExpectedFile {
            name,
            size: super::cifar10::FILE_BYTES as u64,
            md5,
            sha256: Some(sha256),
        },
        decompressed: None,
    }
}

/// Builds a Fashion-MNIST table entry from `(name, size, md5)` of the `.gz` and of its contents.
const fn fashion_file(
    gzipped: (&'static str, u64, &'static str),
    raw: (&'static str, u64, &'static str),
) -> OfficialFile {
    OfficialFile {
        stored: ExpectedFile {
            name: gzipped.0,
            size: gzipped.1,
            md5: gzipped.2,
            sha256: None,
        },
        decompressed: Some(ExpectedFile {
            name: raw.0,
            size: raw.1,
            md5: raw.2,
            sha256: None,
        }),
    }
}

/// Every official file of a dataset.
pub fn official_files(kind: DatasetKind) -> &'static [OfficialFile] {
    match kind {
        DatasetKind::Cifar10 => &CIFAR10_FILES,
        DatasetKind::FashionMnist => &FASHION_MNIST_FILES,
    }
}

/// Size and digests of the dataset file called `file_name` (published or decompressed form),
/// or `None` if it is not an official file of `kind`.
pub fn expected_for(kind: DatasetKind, file_name: &str) -> Option<&'static ExpectedFile> {
    official_files(kind).iter().find_map(|file| {
        if file.stored.name == file_name {
            Some(&file.stored)
        } else {
            file.decompressed
                .as_ref()
                .filter(|raw| raw.name == file_name)
        }
    })
}

/// Something to download from an official source, with its published MD5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OfficialDownload {
    /// Where to fetch it.
    pub url: &'static str,
    /// Name to save it under.
    pub file_name: &'static str,
    /// Published MD5 of the download, lower-case hex.
    pub md5: &'static str,
}

/// The official CIFAR-10 binary tarball; its `cifar-10-batches-bin/` holds the batch files.
pub const CIFAR10_ARCHIVE: OfficialDownload = OfficialDownload {
    url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    file_name: "cifar-10-binary.tar.gz",
    md5: "c32a1d4ab5d03f1284b67883e8d87530",
};

/// Directory URL of the official Fashion-MNIST files (append a file name).
pub const FASHION_MNIST_BASE_URL: &str =
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

/// The four official Fashion-MNIST downloads, saved as they are (gzip).
pub const FASHION_MNIST_DOWNLOADS: [OfficialDownload; 4] = [
    OfficialDownload {
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz",
        file_name: "train-images-idx3-ubyte.gz",
        md5: FASHION_MNIST_FILES[0].stored.md5,
    },
    OfficialDownload {
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz",
        file_name: "train-labels-idx1-ubyte.gz",
        md5: FASHION_MNIST_FILES[1].stored.md5,
    },
    OfficialDownload {
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-images-idx3-ubyte.gz",
        file_name: "t10k-images-idx3-ubyte.gz",
        md5: FASHION_MNIST_FILES[2].stored.md5,
    },
    OfficialDownload {
        url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz",
        file_name: "t10k-labels-idx1-ubyte.gz",
        md5: FASHION_MNIST_FILES[3].stored.md5,
    },
];

/// What to download for a dataset: the CIFAR-10 tarball, or the four Fashion-MNIST `.gz` files.
pub fn official_downloads(kind: DatasetKind) -> &'static [OfficialDownload] {
    match kind {
        DatasetKind::Cifar10 => std::slice::from_ref(&CIFAR10_ARCHIVE),
        DatasetKind::FashionMnist => &FASHION_MNIST_DOWNLOADS,
    }
}

/// Lower-case hex of a digest.
fn to_hex(digest: &[u8]) -> String {
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// MD5 of `bytes`, lower-case hex.
pub fn md5_hex(bytes: &[u8]) -> String {
    to_hex(&Md5::digest(bytes))
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// Digest of `bytes` with `algorithm`, lower-case hex.
pub fn digest_hex(algorithm: HashAlgorithm, bytes: &[u8]) -> String {
    match algorithm {
        HashAlgorithm::Md5 => md5_hex(bytes),
        HashAlgorithm::Sha256 => sha256_hex(bytes),
    }
}

/// Checks `actual` (hex) against `expected`, ignoring case.
fn compare(path: &Path, expected: &Checksum, actual: String) -> Result<(), DataError> {
    if actual.eq_ignore_ascii_case(expected.hex) {
        Ok(())
    } else {
        Err(DataError::ChecksumMismatch {
            path: path.to_path_buf(),
            algorithm: expected.algorithm.name(),
            expected: expected.hex.to_ascii_lowercase(),
            actual,
        })
    }
}

/// Checks that `bytes` have the `expected` digest. `path_for_errors` names them in the error.
pub fn verify(path_for_errors: &Path, bytes: &[u8], expected: &Checksum) -> Result<(), DataError> {
    compare(
        path_for_errors,
        expected,
        digest_hex(expected.algorithm, bytes),
    )
}

/// Size and digests of a file, computed while streaming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigests {
    /// Size in bytes.
    pub size: u64,
    /// MD5, lower-case hex.
    pub md5: String,
    /// SHA-256, lower-case hex, if it was asked for.
    pub sha256: Option<String>,
}

/// Streams the file at `path` once, computing its size, MD5 and (if `with_sha256`) SHA-256.
pub fn file_digests(path: &Path, with_sha256: bool) -> Result<FileDigests, DataError> {
    let mut file = std::fs::File::open(path).map_err(|source| io_error(path, source))?;
    let mut md5 = Md5::new();
    let mut sha256 = with_sha256.then(Sha256::new);
    let mut size = 0u64;
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(io_error(path, source)),
        };
        let chunk = &buffer[..read];
        md5.update(chunk);
        if let Some(sha256) = sha256.as_mut() {
            sha256.update(chunk);
        }
        size += read as u64;
    }
    Ok(FileDigests {
        size,
        md5: to_hex(&md5.finalize()),
        sha256: sha256.map(|hasher| to_hex(&hasher.finalize())),
    })
}

/// Checks the file at `path` against `expected`: size, MD5, and SHA-256 where known.
pub fn verify_file(path: &Path, expected: &ExpectedFile) -> Result<(), DataError> {
    let digests = file_digests(path, expected.sha256.is_some())?;
    if digests.size != expected.size {
        return Err(DataError::WrongSize {
            path: path.to_path_buf(),
            expected: expected.size,
            actual: digests.size,
        });
    }
    compare(path, &Checksum::md5(expected.md5), digests.md5)?;
    if let (Some(expected_sha256), Some(actual_sha256)) = (expected.sha256, digests.sha256) {
        compare(path, &Checksum::sha256(expected_sha256), actual_sha256)?;
    }
    Ok(())
}

/// Checks every official file of `kind` in `dataset_dir`, the directory holding the files
/// (`kind.dir(data_dir)`). A Fashion-MNIST file may be present gzip-compressed (preferred, as
/// the readers do) or decompressed. Stops at the first problem.
pub fn verify_dataset_dir(kind: DatasetKind, dataset_dir: &Path) -> Result<(), DataError> {
    for file in official_files(kind) {
        let stored_path = dataset_dir.join(file.stored.name);
        let (path, expected) = match &file.decompressed {
            Some(raw) if !stored_path.exists() && dataset_dir.join(raw.name).exists() => {
                (dataset_dir.join(raw.name), raw)
            }
            _ => (stored_path, &file.stored),
        };
        verify_file(&path, expected)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::test_support::{real_data_available, real_data_dir};

    #[test]
    fn known_digests() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn verify_reports_mismatch_with_both_digests() {
        let good = Checksum::md5("900150983cd24fb0d6963f7d28e17f72");
        verify(Path::new("abc.bin"), b"abc", &good).expect("matching md5");
        let upper = Checksum::md5("900150983CD24FB0D6963F7D28E17F72");
        verify(Path::new("abc.bin"), b"abc", &upper).expect("case-insensitive");
        let error = verify(Path::new("abc.bin"), b"abd", &good).expect_err("mismatch");
        match &error {
            DataError::ChecksumMismatch {
                path,
                algorithm,
                expected,
                actual,
            } => {
                assert_eq!(path, Path::new("abc.bin"));
                assert_eq!(*algorithm, "md5");
                assert_eq!(expected, good.hex);
                assert_eq!(*actual, md5_hex(b"abd"));
            }
            other => panic!("expected ChecksumMismatch, got {other:?}"),
        }
        let message = error.to_string();
        assert!(
            message.contains("abc.bin") && message.contains(good.hex),
            "{message}"
        );
    }

    #[test]
    fn verify_file_checks_size_then_digest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f.bin");
        std::fs::write(&path, b"abc").expect("write");
        let mut expected = ExpectedFile {
            name: "f.bin",
            size: 3,
            md5: "900150983cd24fb0d6963f7d28e17f72",
            sha256: Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        };
        verify_file(&path, &expected).expect("matches");
        expected.sha256 = Some("00");
        assert!(matches!(
            verify_file(&path, &expected),
            Err(DataError::ChecksumMismatch {
                algorithm: "sha256",
                ..
            })
        ));
        expected.size = 4;
        assert!(matches!(
            verify_file(&path, &expected),
            Err(DataError::WrongSize {
                expected: 4,
                actual: 3,
                ..
            })
        ));
        assert!(matches!(
            verify_file(&dir.path().join("absent"), &expected),
            Err(DataError::Missing { .. })
        ));
    }

    #[test]
    fn dataset_dir_with_corrupt_file_fails_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        for file in &FASHION_MNIST_FILES {
            let bytes = vec![0u8; file.stored.size as usize];
            std::fs::write(dir.path().join(file.stored.name), bytes).expect("write");
        }
        let error = verify_dataset_dir(DatasetKind::FashionMnist, dir.path()).expect_err("zeros");
        assert!(
            matches!(&error, DataError::ChecksumMismatch { path, algorithm: "md5", .. }
                if path.ends_with("train-images-idx3-ubyte.gz")),
            "{error:?}"
        );
    }

    #[test]
    fn table_lookup() {
        let test_batch = expected_for(DatasetKind::Cifar10, "test_batch.bin").expect("listed");
        assert_eq!(test_batch.md5, "803d5f7f4d78ea53de84dbe85f74fb6d");
        assert_eq!(test_batch.checksums().len(), 2);
        let raw =
            expected_for(DatasetKind::FashionMnist, "t10k-labels-idx1-ubyte").expect("listed");
        assert_eq!(raw.size, 10_008);
        assert!(expected_for(DatasetKind::Cifar10, "batches.meta.txt").is_none());
        assert!(expected_for(DatasetKind::FashionMnist, "test_batch.bin").is_none());
        for (download, file) in FASHION_MNIST_DOWNLOADS.iter().zip(&FASHION_MNIST_FILES) {
            assert_eq!(download.file_name, file.stored.name);
            assert_eq!(
                download.url,
                format!("{FASHION_MNIST_BASE_URL}{}", file.stored.name)
            );
        }
    }

    #[test]
    fn real_test_batch_md5_matches() {
        if !real_data_available(DatasetKind::Cifar10) {
            return;
        }
        let path = DatasetKind::Cifar10
            .dir(&real_data_dir())
            .join("test_batch.bin");
        let bytes = std::fs::read(&path).expect("read test_batch.bin");
        verify(
            &path,
            &bytes,
            &Checksum::md5("803d5f7f4d78ea53de84dbe85f74fb6d"),
        )
        .expect("md5");
    }

    #[test]
    fn real_fashion_mnist_dir_verifies() {
        if !real_data_available(DatasetKind::FashionMnist) {
            return;
        }
        let dir = DatasetKind::FashionMnist.dir(&real_data_dir());
        verify_dataset_dir(DatasetKind::FashionMnist, &dir).expect("official files");
    }

    /// Hashes 184 MB twice; slow in debug builds, so run on demand.
    #[test]
    #[ignore = "slow: hashes all of CIFAR-10 with md5 and sha256"]
    fn real_cifar10_dir_verifies() {
        let dir = DatasetKind::Cifar10.dir(&real_data_dir());
        verify_dataset_dir(DatasetKind::Cifar10, &dir).expect("official files");
    }
}
