//! Scores images the way the OpenCV peer benchmark does, plus every kyc-docs check.
//!
//!     cargo run --release -p kyc-docs --example quality -- [--bench N] [--runs R] PATHS...
//!
//! Without `--bench`: one JSON line per image with the peer's fields (`path`, `width`, `height`,
//! `laplacian_var`, `glare_fraction`, `ms`) and ours (`intake`, `verdict`, `reasons`, `checks`).
//! `laplacian_var` and `glare_fraction` follow the peer's definitions exactly (full-resolution
//! luma); `ms` is the whole `Checker::assess` call (decode and all six checks) on bytes already
//! in memory. `intake` is the upload verdict under the default limits (files over 10 MB say
//! `payload_too_large`; they are still assessed, since `assess` enforces pixel limits only).
//!
//! With `--bench N`: after one warm-up pass, R runs (default 5) each assess every image N times
//! on the current thread; prints one JSON summary with the images/s of each run and the median.
//!
//! The full-resolution reference figures are computed by default (so every run does the
//! peer's work and ours); `--no-reference` leaves them out, which is what a server running
//! `QualityConfig::default()` does (`laplacian_var` and `glare_fraction` are then `null`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use kyc_docs::{Checker, Limits, QualityConfig, intake};

fn main() {
    if let Err(message) = run() {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let mut bench = 0usize;
    let mut runs = 5usize;
    let mut reference = true;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bench" => bench = number(args.next())?,
            "--runs" => runs = number(args.next())?.max(1),
            "--no-reference" => reference = false,
            "-h" | "--help" => {
                println!("usage: quality [--bench N] [--runs R] [--no-reference] PATHS...");
                return Ok(());
            }
            _ => expand(Path::new(&arg), &mut paths)?,
        }
    }
    if paths.is_empty() {
        return Err("no images given".into());
    }
    let files: Vec<(PathBuf, Vec<u8>)> = paths
        .into_iter()
        .map(|p| {
            std::fs::read(&p)
                .map(|b| (p.clone(), b))
                .map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect::<Result<_, _>>()?;
    let mut checker = Checker::new(QualityConfig {
        reference_metrics: reference,
        ..QualityConfig::default()
    });
    if bench > 0 {
        return benchmark(&mut checker, &files, bench, runs);
    }
    for (path, bytes) in &files {
        let intake_code = match intake(bytes, &Limits::default()) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        let start = Instant::now();
        let result = checker.assess(bytes);
        let ms = start.elapsed().as_secs_f64() * 1e3;
        let line = match result {
            Ok(a) => {
                let checks: serde_json::Map<String, serde_json::Value> = a
                    .checks
                    .iter()
                    .map(|c| {
                        (
                            c.code.as_str().to_owned(),
                            serde_json::json!({
                                "passed": c.passed,
                                "measured": round(c.measured, 4),
                                "threshold": c.threshold,
                                "warning": c.warning,
                                "detail": c.detail,
                            }),
                        )
                    })
                    .collect();
                let verdict = match &a.verdict {
                    kyc_docs::Verdict::Pass => "pass",
                    kyc_docs::Verdict::Resubmit(_) => "resubmit",
                    kyc_docs::Verdict::Rejected(_) => "rejected",
                };
                serde_json::json!({
                    "path": path.display().to_string(),
                    "width": a.width,
                    "height": a.height,
                    "laplacian_var": a.metrics.laplacian_var.map(|v| round(v, 4)),
                    "glare_fraction": a.metrics.glare_fraction.map(|v| round(v, 6)),
                    "ms": round(ms, 3),
                    "intake": intake_code,
                    "verdict": verdict,
                    "reasons": a.verdict.reasons().iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                    "checks": checks,
                    "colourfulness": round(a.metrics.colourfulness, 3),
                    "document_located": a.metrics.document_located,
                    "document_area_fraction": round(a.metrics.document_area_fraction, 4),
                    "document_shape": [
                        round(a.metrics.document_solidity, 3),
                        round(a.metrics.document_rectangularity, 3),
                    ],
                })
            }
            Err(e) => serde_json::json!({
                "path": path.display().to_string(),
                "error": e.code(),
                "message": e.to_string(),
                "intake": intake_code,
                "ms": round(ms, 3),
            }),
        };
        println!("{line}");
    }
    Ok(())
}

fn benchmark(
    checker: &mut Checker,
    files: &[(PathBuf, Vec<u8>)],
    iters: usize,
    runs: usize,
) -> Result<(), String> {
    for (path, bytes) in files {
        checker
            .assess(bytes)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let mut rates = Vec::with_capacity(runs);
    let mut per_file: Vec<Vec<f64>> = vec![Vec::new(); files.len()];
    for _ in 0..runs {
        let start = Instant::now();
        for _ in 0..iters {
            for (i, (_, bytes)) in files.iter().enumerate() {
                let t = Instant::now();
                let assessment = checker.assess(bytes);
                per_file[i].push(t.elapsed().as_secs_f64() * 1e3);
                std::hint::black_box(&assessment);
            }
        }
        rates.push((iters * files.len()) as f64 / start.elapsed().as_secs_f64());
    }
    let per_file_ms: serde_json::Map<String, serde_json::Value> = files
        .iter()
        .zip(&mut per_file)
        .map(|((p, _), t)| {
            let name = p
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            (name, round(median(t), 3).into())
        })
        .collect();
    let summary = serde_json::json!({
        "mode": "bench",
        "images_in_set": files.len(),
        "iters_per_run": iters,
        "runs": runs,
        "images_per_s_runs": rates.iter().map(|r| round(*r, 2)).collect::<Vec<_>>(),
        "images_per_s_median": round(median(&mut rates.clone()), 2),
        "reference_metrics": checker.config().reference_metrics,
        "per_file_median_ms": per_file_ms,
    });
    println!("{summary}");
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn round(v: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (v * p).round() / p
}

fn number(arg: Option<String>) -> Result<usize, String> {
    arg.as_deref()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "expected a number".to_owned())
}

fn expand(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png")
                })
            })
            .collect();
        entries.sort();
        out.extend(entries);
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}
