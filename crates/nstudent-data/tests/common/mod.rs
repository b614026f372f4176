//! Fixture writers for every supported format, and a tiny HTTP server for download tests.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use flate2::write::GzEncoder;

/// Deterministic pixel `j` of image `i` with `label`.
pub fn pixel(i: usize, j: usize, label: u16) -> u8 {
    ((i * 7 + j * 3 + usize::from(label) * 11) % 256) as u8
}

pub fn labels_for(n: usize, classes: u16) -> Vec<u16> {
    (0..n).map(|i| (i as u16 * 3 + 1) % classes).collect()
}

pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// Images `(n, h, w)` and labels of `n` items with `classes` classes.
pub fn idx_pair(n: usize, h: usize, w: usize, classes: u16) -> (Vec<u8>, Vec<u8>, Vec<u16>) {
    let labels = labels_for(n, classes);
    let mut pixels = Vec::new();
    for (i, &l) in labels.iter().enumerate() {
        pixels.extend((0..h * w).map(|j| pixel(i, j, l)));
    }
    let images = idx_bytes(&[n as u32, h as u32, w as u32], &pixels);
    let lab = idx_bytes(
        &[n as u32],
        &labels.iter().map(|&l| l as u8).collect::<Vec<_>>(),
    );
    (images, lab, labels)
}

/// Writes the four-file IDX layout (train and t10k), gzip or raw.
pub fn write_idx_dir(dir: &Path, n_train: usize, n_test: usize, compress: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let ext = if compress { ".gz" } else { "" };
    for (prefix, n) in [("train", n_train), ("t10k", n_test)] {
        let (images, labels, _) = idx_pair(n, 4, 3, 10);
        let (images, labels) = if compress {
            (gz(&images), gz(&labels))
        } else {
            (images, labels)
        };
        std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte{ext}")), images).unwrap();
        std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte{ext}")), labels).unwrap();
    }
}

/// One CIFAR record: label byte(s), then planar R, G, B; pixel (y, x) of channel c has value
/// `pixel(i, (y * 32 + x) * 3 + c, label)` so HWC order can be checked.
pub fn cifar_record(i: usize, label_bytes: &[u8], label: u16) -> Vec<u8> {
    let mut rec = label_bytes.to_vec();
    for c in 0..3 {
        for p in 0..1024 {
            rec.push(pixel(i, p * 3 + c, label));
        }
    }
    rec
}

pub fn cifar10_file(n: usize, first: usize) -> (Vec<u8>, Vec<u16>) {
    let labels: Vec<u16> = (first..first + n).map(|i| (i % 10) as u16).collect();
    let mut out = Vec::new();
    for (k, &l) in labels.iter().enumerate() {
        out.extend(cifar_record(first + k, &[l as u8], l));
    }
    (out, labels)
}

/// CIFAR-100 records: coarse label = fine / 5.
pub fn cifar100_file(n: usize) -> (Vec<u8>, Vec<u16>) {
    let fine: Vec<u16> = (0..n).map(|i| ((i * 37) % 100) as u16).collect();
    let mut out = Vec::new();
    for (i, &f) in fine.iter().enumerate() {
        out.extend(cifar_record(i, &[(f / 5) as u8, f as u8], f));
    }
    (out, fine)
}

/// An A-Z style CSV: label 0-25 then 784 pixels, no header.
pub fn az_csv(n: usize) -> (String, Vec<u16>) {
    let labels: Vec<u16> = (0..n).map(|i| (i % 26) as u16).collect();
    let mut s = String::new();
    for (i, &l) in labels.iter().enumerate() {
        s.push_str(&l.to_string());
        for j in 0..784 {
            s.push(',');
            s.push_str(&pixel(i, j, l).to_string());
        }
        s.push('\n');
    }
    (s, labels)
}

pub fn write_png_grey(path: &Path, w: u32, h: u32, value: u8) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::GrayImage::from_pixel(w, h, image::Luma([value]))
        .save(path)
        .unwrap();
}

pub fn write_png_rgb(path: &Path, w: u32, h: u32, rgb: [u8; 3]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_pixel(w, h, image::Rgb(rgb))
        .save(path)
        .unwrap();
}

pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A one-thread HTTP/1.1 file server on 127.0.0.1 supporting `Range: bytes=N-`.
pub struct Server {
    pub base: String,
    /// Every request as "PATH RANGE" ("-" when no range), in order.
    pub requests: Arc<Mutex<Vec<String>>>,
}

/// Serves `files` (path -> bytes). With `cut_first = Some(k)`, the first full (non-range)
/// response announces the whole length but sends only `k` bytes before closing.
pub fn serve(files: HashMap<String, Vec<u8>>, cut_first: Option<usize>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    std::thread::spawn(move || {
        let mut cut = cut_first;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let path = first.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut range: Option<u64> = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("range: bytes=") {
                    range = v.trim().trim_end_matches('-').parse().ok();
                }
            }
            log.lock().unwrap().push(format!(
                "{path} {}",
                range.map(|r| r.to_string()).unwrap_or_else(|| "-".into())
            ));
            let Some(body) = files.get(&path) else {
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            };
            let len = body.len() as u64;
            match range {
                Some(r) if r >= len => {
                    let _ = stream.write_all(
                        format!("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
                    );
                }
                Some(r) => {
                    let part = &body[r as usize..];
                    let _ = stream.write_all(
                        format!(
                            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {r}-{}/{len}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            len - 1,
                            part.len()
                        )
                        .as_bytes(),
                    );
                    let _ = stream.write_all(part);
                }
                None => {
                    let _ = stream.write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    let send = match cut.take() {
                        Some(k) => &body[..k],
                        None => &body[..],
                    };
                    let _ = stream.write_all(send);
                }
            }
            let _ = stream.flush();
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    });
    Server { base, requests }
}
