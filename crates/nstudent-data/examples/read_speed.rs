//! Times reading all of MNIST (the four IDX gzip files) into memory.
//!
//! `cargo run --release -p nstudent-data --example read_speed [DIR] [REPEATS]`
//! DIR defaults to ../shared/datasets/mnist from the workspace root. Prints the best and median
//! wall time over REPEATS runs (default 5) and the time to decompress the files alone, as a
//! reference for what the reader adds.
//!
//! `... --example read_speed az [ROWS]` instead writes an A-Z style CSV of ROWS rows (default
//! 37,200, a tenth of the real file) to a temporary folder and times the streaming CSV reader.

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("az") {
        args.next();
        let rows: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(37_200);
        return az(rows);
    }
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/datasets/mnist"
        ))
    });
    let repeats: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    if !dir.is_dir() {
        eprintln!(
            "error: {} is not a directory: pass the MNIST folder",
            dir.display()
        );
        std::process::exit(2);
    }
    let spec = dir.to_str().expect("UTF-8 path");
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..repeats {
        let t = Instant::now();
        let s = nstudent_data::open(spec, &dir).unwrap_or_else(|e| {
            eprintln!("error: {e}");
            std::process::exit(2);
        });
        times.push(t.elapsed().as_secs_f64());
        count = s.train.len() + s.test.as_ref().map_or(0, |d| d.len());
    }
    times.sort_by(f64::total_cmp);
    // Reference: decompressing the four files one after the other, nothing else.
    let t = Instant::now();
    let mut bytes = 0;
    for f in std::fs::read_dir(&dir).expect("readable dir") {
        let p = f.expect("entry").path();
        if p.extension().is_some_and(|e| e == "gz") {
            let raw = std::fs::read(&p).expect("readable file");
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(raw.as_slice())
                .read_to_end(&mut out)
                .expect("gzip");
            bytes += out.len();
        }
    }
    let gunzip = t.elapsed().as_secs_f64();
    println!(
        "read {count} images from {}: best {:.3} s, median {:.3} s over {repeats} runs",
        dir.display(),
        times[0],
        times[times.len() / 2]
    );
    println!("reference: sequential gunzip of the 4 files ({bytes} bytes) {gunzip:.3} s");
    println!(
        "target < 1 s: {}",
        if times[times.len() / 2] < 1.0 {
            "met"
        } else {
            "NOT met"
        }
    );
}

fn az(rows: usize) {
    use std::io::Write;
    let tmp = std::env::temp_dir().join(format!("nstudent-az-{}", std::process::id()));
    let dir = tmp.join("az-handwritten");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("A_Z Handwritten Data.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("temp file"));
        for i in 0..rows {
            write!(f, "{}", i % 26).expect("write");
            for j in 0..784 {
                // Mostly zeros with strokes, like the real letters.
                let v = if (i + j) % 5 == 0 {
                    (i * 7 + j) % 256
                } else {
                    0
                };
                write!(f, ",{v}").expect("write");
            }
            writeln!(f).expect("write");
        }
    }
    let size = std::fs::metadata(&path).expect("size").len();
    let t = Instant::now();
    let s = nstudent_data::open("az", &tmp).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2);
    });
    let secs = t.elapsed().as_secs_f64();
    println!(
        "A-Z CSV: {} rows, {:.1} MB of text read in {secs:.3} s ({:.0} MB/s; the real 372,450 rows would take ~{:.1} s)",
        s.train.len(),
        size as f64 / 1e6,
        size as f64 / 1e6 / secs,
        secs * 372_450.0 / rows as f64
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
