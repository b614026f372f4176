//! Downloads against a local HTTP server started by the test: success, resume, checksum
//! mismatch, errors. Only with the `fetch` feature (on by default).
#![cfg(feature = "fetch")]

mod common;

use std::collections::HashMap;

use common::*;
use nstudent_data::fetch::{self, part_path, Checksum, FetchOptions, Outcome, Stall};
use nstudent_data::sources::{Download, Source};

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

fn toy_source(files: &[(&'static str, &[u8])]) -> &'static Source {
    let downloads: Vec<Download> = files
        .iter()
        .map(|(name, bytes)| Download {
            url: "http://127.0.0.1:9/unused",
            file: name,
            md5: Box::leak(md5_hex(bytes).into_boxed_str()),
            extract: &[],
        })
        .collect();
    Box::leak(Box::new(Source {
        name: "toy",
        title: "Toy",
        description: "test data",
        homepage: "http://127.0.0.1/",
        downloads: Box::leak(downloads.into_boxed_slice()),
        manual: None,
        embedded: false,
        published: None,
    }))
}

#[test]
fn fetch_downloads_verifies_and_skips_present_files() {
    let a = payload(300_000);
    let b = payload(1000);
    let server = serve(
        HashMap::from([
            ("/toy/a.bin".to_string(), a.clone()),
            ("/toy/b.bin".to_string(), b.clone()),
        ]),
        None,
    );
    let source = toy_source(&[("a.bin", &a), ("b.bin", &b)]);
    let tmp = tempfile::tempdir().unwrap();
    let options = FetchOptions {
        mirror: Some(server.base.clone()),
        progress: Default::default(),
        ..Default::default()
    };
    let got = fetch::fetch(source, tmp.path(), &options).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].outcome,
        Outcome::Downloaded {
            bytes: 300_000,
            resumed_from: 0
        }
    );
    assert_eq!(std::fs::read(tmp.path().join("toy/a.bin")).unwrap(), a);
    assert_eq!(std::fs::read(tmp.path().join("toy/b.bin")).unwrap(), b);
    assert!(!part_path(&tmp.path().join("toy/a.bin")).exists());
    // Second run: nothing downloaded.
    let again = fetch::fetch(source, tmp.path(), &options).unwrap();
    assert!(again.iter().all(|f| f.outcome == Outcome::AlreadyPresent));
    assert_eq!(server.requests.lock().unwrap().len(), 2);
}

#[test]
fn interrupted_download_resumes_with_a_range_request() {
    let a = payload(200_000);
    let server = serve(
        HashMap::from([("/toy/a.bin".to_string(), a.clone())]),
        Some(70_000),
    );
    let source = toy_source(&[("a.bin", &a)]);
    let tmp = tempfile::tempdir().unwrap();
    let options = FetchOptions {
        mirror: Some(server.base.clone()),
        progress: Default::default(),
        ..Default::default()
    };
    let dest = tmp.path().join("toy/a.bin");
    let err = fetch::fetch(source, tmp.path(), &options).unwrap_err();
    let text = err.to_string();
    assert!(err.kind().is_users());
    assert!(
        text.contains("interrupted") && text.contains("again to resume"),
        "{text}"
    );
    assert!(
        !dest.exists(),
        "no file under the final name after an interrupted download"
    );
    assert_eq!(std::fs::metadata(part_path(&dest)).unwrap().len(), 70_000);
    let got = fetch::fetch(source, tmp.path(), &options).unwrap();
    assert_eq!(
        got[0].outcome,
        Outcome::Downloaded {
            bytes: 200_000,
            resumed_from: 70_000
        }
    );
    assert_eq!(std::fs::read(&dest).unwrap(), a);
    assert!(!part_path(&dest).exists());
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests, ["/toy/a.bin -", "/toy/a.bin 70000"]);
}

/// Every progress event, as a line.
#[derive(Default)]
struct Heard(std::sync::Mutex<Vec<String>>);

impl fetch::DownloadProgress for Heard {
    fn started(&self, name: &str, start: u64, total: Option<u64>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("started {name} {start} {total:?}"));
    }
    fn advanced(&self, got: u64) {
        self.0.lock().unwrap().push(format!("advanced {got}"));
    }
    fn ended(&self, completed: bool) {
        self.0.lock().unwrap().push(format!("ended {completed}"));
    }
}

#[test]
fn existing_part_file_is_resumed() {
    let a = payload(50_000);
    let server = serve(HashMap::from([("/f.bin".to_string(), a.clone())]), None);
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("f.bin");
    std::fs::write(part_path(&dest), &a[..12_345]).unwrap();
    let checksum = Checksum::Sha256({
        use sha2::Digest;
        sha2::Sha256::digest(&a)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    });
    let heard = Heard::default();
    let outcome =
        fetch::download(&format!("{}/f.bin", server.base), &dest, &checksum, &heard).unwrap();
    assert_eq!(
        outcome,
        Outcome::Downloaded {
            bytes: 50_000,
            resumed_from: 12_345
        }
    );
    // The progress heard: the resume point and size, bytes rising to the end, a completed end.
    let heard = heard.0.lock().unwrap().clone();
    assert_eq!(
        heard.first().map(String::as_str),
        Some("started f.bin 12345 Some(50000)")
    );
    assert_eq!(heard.last().map(String::as_str), Some("ended true"));
    let got: Vec<u64> = heard
        .iter()
        .filter_map(|h| h.strip_prefix("advanced ")?.parse().ok())
        .collect();
    assert!(
        got.windows(2).all(|w| w[0] < w[1]) && got.last() == Some(&50_000),
        "{got:?}"
    );
    assert_eq!(std::fs::read(&dest).unwrap(), a);
    // A complete .part (server answers 416) is verified and moved into place.
    let dest2 = tmp.path().join("g.bin");
    std::fs::write(part_path(&dest2), &a).unwrap();
    let url = format!("{}/f.bin", server.base);
    fetch::download(&url, &dest2, &checksum, &fetch::NoProgress).unwrap();
    assert_eq!(std::fs::read(&dest2).unwrap(), a);
}

#[test]
fn checksum_mismatch_leaves_nothing_behind() {
    let a = payload(10_000);
    let mut other = a.clone();
    other[5000] ^= 1;
    let server = serve(HashMap::from([("/toy/a.bin".to_string(), other)]), None);
    let source = toy_source(&[("a.bin", &a)]);
    let tmp = tempfile::tempdir().unwrap();
    let options = FetchOptions {
        mirror: Some(server.base.clone()),
        progress: Default::default(),
        ..Default::default()
    };
    let err = fetch::fetch(source, tmp.path(), &options).unwrap_err();
    let text = err.to_string();
    assert!(err.kind().is_users());
    assert!(
        text.contains("checksum mismatch") && text.contains(&md5_hex(&a)),
        "{text}"
    );
    let dest = tmp.path().join("toy/a.bin");
    assert!(!dest.exists());
    assert!(!part_path(&dest).exists());
}

#[test]
fn existing_file_with_wrong_checksum_is_kept_and_reported() {
    let a = payload(100);
    let source = toy_source(&[("a.bin", &a)]);
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("toy")).unwrap();
    std::fs::write(tmp.path().join("toy/a.bin"), b"mine").unwrap();
    let options = FetchOptions {
        mirror: Some("http://127.0.0.1:9".into()),
        progress: Default::default(),
        ..Default::default()
    };
    let err = fetch::fetch(source, tmp.path(), &options).unwrap_err();
    assert!(
        err.to_string().contains("delete it and fetch again"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(tmp.path().join("toy/a.bin")).unwrap(),
        b"mine"
    );
}

#[test]
fn http_errors_and_unreachable_servers_are_user_errors() {
    let server = serve(HashMap::new(), None);
    let tmp = tempfile::tempdir().unwrap();
    let checksum = Checksum::Md5("0".repeat(32));
    let err = fetch::download(
        &format!("{}/missing", server.base),
        &tmp.path().join("x"),
        &checksum,
        &fetch::NoProgress,
    )
    .unwrap_err();
    assert!(
        err.kind().is_users() && err.to_string().contains("HTTP 404"),
        "{err}"
    );
    // Nothing listens on port 9 (discard) here.
    let err = fetch::download(
        "http://127.0.0.1:9/x",
        &tmp.path().join("y"),
        &checksum,
        &fetch::NoProgress,
    )
    .unwrap_err();
    assert!(
        err.kind().is_users() && err.to_string().contains("cannot download"),
        "{err}"
    );
    assert!(!tmp.path().join("y").exists());
}

#[test]
fn manual_sources_explain_the_manual_step() {
    let az = nstudent_data::sources::get("az").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let err = fetch::fetch(az, tmp.path(), &FetchOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("Kaggle") && text.contains("az-handwritten"),
        "{text}"
    );
    assert!(!text.contains('\n'));
}

#[test]
fn emnist_zip_members_are_extracted_and_the_zip_removed() {
    let src = nstudent_data::sources::get("emnist-letters").unwrap();
    // Build a zip laid out like gzip.zip, then serve it under the mirror with its real name.
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        for (member, _) in src.downloads[0].extract {
            zip.start_file(*member, zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(&mut zip, member.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
    let bytes = buf.into_inner();
    let toy = Box::leak(Box::new(Source {
        name: "emnist-letters",
        downloads: Box::leak(Box::new([Download {
            md5: Box::leak(md5_hex(&bytes).into_boxed_str()),
            ..src.downloads[0]
        }])),
        ..*src
    }));
    let server = serve(
        HashMap::from([("/emnist-letters/gzip.zip".to_string(), bytes)]),
        None,
    );
    let tmp = tempfile::tempdir().unwrap();
    let options = FetchOptions {
        mirror: Some(server.base.clone()),
        progress: Default::default(),
        ..Default::default()
    };
    let got = fetch::fetch(toy, tmp.path(), &options).unwrap();
    assert_eq!(got.len(), 4);
    let dir = tmp.path().join("emnist-letters");
    assert!(!dir.join("gzip.zip").exists());
    let content =
        std::fs::read_to_string(dir.join("emnist-letters-test-labels-idx1-ubyte.gz")).unwrap();
    assert_eq!(content, "gzip/emnist-letters-test-labels-idx1-ubyte.gz");
    assert!(toy.is_present(tmp.path()));
}

#[test]
fn a_trickling_server_is_stopped_as_stalled_and_the_part_is_kept() {
    use std::io::{BufRead, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
            line.clear();
        }
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        // One byte every 20 ms: never silent long enough for the read timeout.
        for _ in 0..1000 {
            if stream
                .write_all(b"x")
                .and_then(|()| stream.flush())
                .is_err()
            {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("slow.bin");
    let checksum = Checksum::Md5("0".repeat(32));
    let stall = Stall {
        window: std::time::Duration::from_millis(300),
        min_bytes: 100,
    };
    let started = std::time::Instant::now();
    let err = fetch::download_with(
        &format!("{base}/slow.bin"),
        &dest,
        &checksum,
        &fetch::NoProgress,
        stall,
    )
    .unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let text = err.to_string();
    assert!(err.kind().is_users());
    assert!(
        text.contains("stalled") && text.contains("again to resume"),
        "{text}"
    );
    assert!(!dest.exists());
    assert!(std::fs::metadata(part_path(&dest)).unwrap().len() > 0);
}
