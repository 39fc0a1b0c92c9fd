//! No input makes the crate panic: arbitrary bytes, and valid files mutated by truncation, bit
//! flips, insertions and header edits, all end in `Ok` or a typed error.

#![expect(
    clippy::unwrap_used,
    reason = "test bodies and their helpers: a failed expectation must fail the test"
)]

use image::ExtendedColorType;
use image::codecs::jpeg::JpegEncoder;
use kyc_docs::testing::Scene;
use kyc_docs::{Checker, Limits, QualityConfig, UploadBuffer, intake, sniff};
use proptest::prelude::*;

/// Small pixel limits keep mutated headers from asking for huge (legal) images.
fn config() -> QualityConfig {
    QualityConfig {
        limits: Limits {
            max_pixels: 4_000_000,
            max_side: 4_000,
            max_decode_bytes: 64 * 1024 * 1024,
            ..Limits::default()
        },
        ..QualityConfig::default()
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let s = Scene::sharp(96, 64);
    let px = s.render();
    let mut jpg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpg, 85)
        .encode(&px, 96, 64, ExtendedColorType::Rgb8)
        .unwrap();
    let mut grey_jpg = Vec::new();
    let grey: Vec<u8> = px.chunks_exact(3).map(|p| p[1]).collect();
    JpegEncoder::new_with_quality(&mut grey_jpg, 85)
        .encode(&grey, 96, 64, ExtendedColorType::L8)
        .unwrap();
    let mut png = Vec::new();
    image::write_buffer_with_format(
        &mut std::io::Cursor::new(&mut png),
        &px,
        96,
        64,
        ExtendedColorType::Rgb8,
        image::ImageFormat::Png,
    )
    .unwrap();
    vec![jpg, grey_jpg, png, s.png()]
}

/// `KYC_FUZZ_SEEDS=dir cargo test -p kyc-docs --test no_panic -- --ignored` writes the seeds
/// as a starting corpus for the fuzz target.
#[test]
#[ignore = "writes files"]
fn write_fuzz_seeds() {
    let dir = std::env::var("KYC_FUZZ_SEEDS").unwrap();
    for (i, seed) in seeds().iter().enumerate() {
        let ext = if seed.starts_with(b"\x89PNG") {
            "png"
        } else {
            "jpg"
        };
        std::fs::write(format!("{dir}/seed{i}.{ext}"), seed).unwrap();
    }
}

fn exercise(bytes: &[u8], checker: &mut Checker) {
    let _ = sniff(bytes);
    if let Ok(accepted) = intake(bytes, &Limits::default()) {
        // What intake accepts must stay acceptable after stripping.
        intake(&accepted.stripped, &Limits::default()).unwrap();
        let _ = checker.assess(&accepted.stripped);
    }
    let _ = checker.assess(bytes);
    let mut upload = UploadBuffer::new(&Limits::default());
    for chunk in bytes.chunks(7) {
        if upload.push(chunk).is_err() {
            return;
        }
    }
    let _ = upload.finish();
}

#[test]
fn every_truncation_of_every_seed() {
    let mut checker = Checker::new(config());
    for seed in seeds() {
        let step = (seed.len() / 300).max(1);
        for cut in (0..seed.len()).step_by(step) {
            exercise(&seed[..cut], &mut checker);
        }
    }
}

#[test]
fn every_single_byte_of_the_headers_set_to_extremes() {
    let mut checker = Checker::new(config());
    for seed in seeds() {
        for i in 0..seed.len().min(700) {
            for v in [0x00, 0xFF, 0x7F, 0x80] {
                let mut m = seed.clone();
                m[i] = v;
                exercise(&m, &mut checker);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        exercise(&bytes, &mut Checker::new(config()));
    }

    #[test]
    fn arbitrary_bytes_behind_each_magic(
        magic in prop::sample::select(vec![b"\xFF\xD8\xFF".to_vec(), b"\x89PNG\r\n\x1a\n".to_vec()]),
        tail in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let mut bytes = magic;
        bytes.extend(tail);
        exercise(&bytes, &mut Checker::new(config()));
    }

    #[test]
    fn mutated_valid_files(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..12),
    ) {
        let mut bytes = seeds().swap_remove(which);
        for (at, value, kind) in edits {
            let i = at.index(bytes.len().max(1));
            match kind {
                0 if i < bytes.len() => bytes[i] = value,
                1 => bytes.insert(i.min(bytes.len()), value),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        exercise(&bytes, &mut Checker::new(config()));
    }
}
