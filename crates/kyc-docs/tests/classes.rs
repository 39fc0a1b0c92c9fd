//! One synthetic photo per class, checked end to end: the verdict and its reasons, the
//! measured values against their thresholds, and the typed errors of files that are not
//! acceptable images at all. Images are generated at test time (`kyc_docs::testing`).

#![expect(
    clippy::unwrap_used,
    reason = "test bodies and their helpers: a failed expectation must fail the test"
)]

use image::ExtendedColorType;
use image::codecs::jpeg::JpegEncoder;
use kyc_docs::testing::{Scene, png_grey, png_grey_alpha, png_rgb};
use kyc_docs::{
    Assessment, DocsError, Limits, Orientation, QualityCode, QualityConfig, Verdict, assess, intake,
};

const W: u32 = 800;
const H: u32 = 1200;

fn jpeg(width: u32, height: u32, px: &[u8], colour: ExtendedColorType) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode(px, width, height, colour)
        .unwrap();
    out
}

fn scene_jpeg(scene: &Scene) -> Vec<u8> {
    jpeg(
        scene.width,
        scene.height,
        &scene.render(),
        ExtendedColorType::Rgb8,
    )
}

fn check(bytes: &[u8]) -> Assessment {
    // Every accepted upload is stripped first, as the server does; checks run on what is stored.
    let accepted = intake(bytes, &Limits::default()).unwrap();
    let a = assess(&accepted.stripped, &QualityConfig::default()).unwrap();
    let b = assess(bytes, &QualityConfig::default()).unwrap();
    assert_eq!(a.verdict, b.verdict, "stripping changed the verdict");
    a
}

fn measured(a: &Assessment, code: QualityCode) -> (bool, f64, f64) {
    let c = a.check(code).unwrap();
    (c.passed, c.measured, c.threshold)
}

fn explain(a: &Assessment) -> String {
    a.checks
        .iter()
        .map(|c| {
            format!(
                "{} {} {:.4}/{}",
                c.code.as_str(),
                c.passed,
                c.measured,
                c.threshold
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn sharp() -> Scene {
    Scene::sharp(W, H)
}

#[test]
fn sharp_photo_passes_every_check() {
    for bytes in [scene_jpeg(&sharp()), sharp().png()] {
        let a = check(&bytes);
        assert_eq!(a.verdict, Verdict::Pass, "{}", explain(&a));
        assert_eq!(a.checks.len(), 6);
        for c in &a.checks {
            assert!(c.passed, "{c:?}");
        }
        // 800x1200 is the minimum: it passes, with the recommendation as a warning.
        let res = a.check(QualityCode::Resolution).unwrap();
        assert!(
            res.warning
                .as_deref()
                .unwrap()
                .contains("recommended 1200x1800")
        );
        assert!(a.metrics.document_located);
    }
}

#[test]
fn a_light_card_on_a_light_table_passes() {
    // A black-box tester's photos: a light card with a dark header band on a light grey or
    // light wooden table. Otsu's split put the band on one side and the card with the table
    // on the other, and the card was resubmitted for `cutoff` ("no document outline found").
    for table in [[165, 165, 165], [200, 200, 200], [190, 170, 140]] {
        let a = check(&flat_card_photo((100, 500), table));
        assert_eq!(a.verdict, Verdict::Pass, "{table:?}: {}", explain(&a));
        assert!(a.metrics.document_located);
    }
}

#[test]
fn a_larger_sharp_photo_has_no_resolution_warning() {
    let mut s = Scene::sharp(1200, 1800);
    s.seed = 11;
    s.angle = -3.0;
    let a = check(&scene_jpeg(&s));
    assert_eq!(a.verdict, Verdict::Pass, "{}", explain(&a));
    assert_eq!(a.check(QualityCode::Resolution).unwrap().warning, None);
}

#[test]
fn blurred_photo_is_resubmitted_for_blur_only() {
    let mut s = sharp();
    s.blur = 2.0; // 3 px at the peer's 1200 px width
    let a = check(&scene_jpeg(&s));
    assert_eq!(
        a.verdict,
        Verdict::Resubmit(vec![QualityCode::Blur]),
        "{}",
        explain(&a)
    );
    let (passed, value, threshold) = measured(&a, QualityCode::Blur);
    assert!(!passed && value < threshold / 2.0, "{value} vs {threshold}");
}

#[test]
fn glare_spot_is_resubmitted_for_glare_only() {
    let mut s = sharp();
    s.glare = ((0.6, 0.44), 0.13, 260.0);
    let a = check(&scene_jpeg(&s));
    assert_eq!(
        a.verdict,
        Verdict::Resubmit(vec![QualityCode::Glare]),
        "{}",
        explain(&a)
    );
    let (_, value, threshold) = measured(&a, QualityCode::Glare);
    assert!(value > 5.0 * threshold, "{value}");
    // A specular point smaller than the minimum blob is not glare.
    let mut point = sharp();
    point.glare = ((0.6, 0.44), 0.01, 300.0);
    let a = check(&scene_jpeg(&point));
    assert_eq!(a.verdict, Verdict::Pass, "{}", explain(&a));
}

#[test]
fn dark_photo_is_resubmitted_for_exposure_only() {
    let mut s = sharp();
    s.gain = 0.25;
    let a = check(&scene_jpeg(&s));
    assert_eq!(
        a.verdict,
        Verdict::Resubmit(vec![QualityCode::Exposure]),
        "{}",
        explain(&a)
    );
    let c = a.check(QualityCode::Exposure).unwrap();
    assert!(c.detail.as_deref().unwrap().contains("too dark"));
    // Dim but readable is not too dark.
    let mut dim = sharp();
    dim.gain = 0.6;
    assert_eq!(check(&scene_jpeg(&dim)).verdict, Verdict::Pass);
}

#[test]
fn overexposed_photo_is_resubmitted_for_exposure() {
    let mut s = sharp();
    s.gain = 1.7;
    s.offset = 40.0;
    let a = check(&scene_jpeg(&s));
    assert!(
        matches!(&a.verdict, Verdict::Resubmit(r) if r.contains(&QualityCode::Exposure)),
        "{}",
        explain(&a)
    );
    let c = a.check(QualityCode::Exposure).unwrap();
    assert!(c.detail.as_deref().unwrap().contains("blown out"));
    assert!(!a.verdict.reasons().contains(&QualityCode::Blur));
}

#[test]
fn card_crossing_the_frame_is_resubmitted_for_cutoff_only() {
    for centre in [(0.78, 0.46), (0.5, 0.9), (0.68, 0.12)] {
        let mut s = sharp();
        s.centre = centre;
        let a = check(&scene_jpeg(&s));
        assert_eq!(
            a.verdict,
            Verdict::Resubmit(vec![QualityCode::Cutoff]),
            "{centre:?}: {}",
            explain(&a)
        );
    }
    // Close to the edge but inside is fine.
    let mut s = sharp();
    s.card_width = 0.93;
    s.angle = 0.5;
    let a = check(&scene_jpeg(&s));
    assert_eq!(a.verdict, Verdict::Pass, "{}", explain(&a));
}

/// `scene` with its card moved so that `share` of it (of its width for the left and right
/// sides, of its height for the top and bottom) lies outside the frame, past `side`.
fn crossing(mut scene: Scene, side: &str, share: f64) -> Scene {
    let half_w = scene.card_width / 2.0;
    let card_h = scene.card_width * f64::from(scene.width) * 54.0 / 85.6;
    let half_h = card_h / f64::from(scene.height) / 2.0;
    scene.centre = match side {
        "right" => (1.0 - half_w + share * 2.0 * half_w, 0.5),
        "left" => (half_w - share * 2.0 * half_w, 0.5),
        "bottom" => (0.5, 1.0 - half_h + share * 2.0 * half_h),
        _ => (0.5, half_h - share * 2.0 * half_h),
    };
    scene
}

#[test]
fn card_with_dark_fields_crossing_any_side_is_resubmitted_for_cutoff() {
    // Solid dark fields (portrait backdrop, text bars, MRZ) are cut by the frame border along
    // with the card; they must not be mistaken for table and notch the card's outline.
    let mut s = sharp();
    s.solid_fields = true;
    s.angle = 0.0;
    // Inside with a margin: passes.
    let a = check(&s.png());
    assert_eq!(a.verdict, Verdict::Pass, "{}", explain(&a));
    let mut missed = Vec::new();
    // The card's top 14 % is a dark header band that the segmentation cannot tell from the
    // table, so on the top side the cut must reach the light body.
    for (side, shares) in [
        ("right", &[0.05, 0.2, 0.35, 0.5][..]),
        ("left", &[0.05, 0.2, 0.35, 0.5]),
        ("bottom", &[0.05, 0.2, 0.35, 0.5]),
        ("top", &[0.2, 0.35, 0.5]),
    ] {
        for &share in shares {
            let a = check(&crossing(s.clone(), side, share).png());
            let (_, measured, threshold) = measured(&a, QualityCode::Cutoff);
            // Well above the threshold, not just across it.
            if !a.metrics.document_located
                || measured < 3.0 * threshold
                || a.verdict != Verdict::Resubmit(vec![QualityCode::Cutoff])
            {
                missed.push(format!("{side} {share}: {}", explain(&a)));
            }
        }
    }
    assert!(missed.is_empty(), "{missed:#?}");
}

/// A black-box tester's photo (`gen.py`): a 1000x630 flat colour card, its top left corner
/// at `at`, on a 1200x1800 striped table around `table` (RGB; dark brown in the first one). The card has a dark blue header, a portrait,
/// 14 solid dark text bars from its middle towards its right edge and a red stripe across it,
/// so wherever it crosses the frame, dark fields reach the frame border.
const BROWN: [i64; 3] = [90, 60, 35];

fn flat_card_photo(at: (i64, i64), table: [i64; 3]) -> Vec<u8> {
    let (w, h) = (1200i64, 1800i64);
    let (cw, ch) = (1000i64, 630i64);
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = |lo: i64, hi: i64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        lo + (seed % (hi - lo + 1) as u64) as i64
    };
    let mut px = vec![0u8; (w * h * 3) as usize];
    for y in 0..h {
        let c = if y % 3 == 0 { next(-15, 15) } else { 0 };
        let table =
            [table[0] + c, table[1] + c, table[2] + c.div_euclid(2)].map(|v| v.clamp(0, 255) as u8);
        for x in 0..w {
            px[((y * w + x) * 3) as usize..][..3].copy_from_slice(&table);
        }
    }
    let bars: Vec<i64> = (0..14).map(|_| next(cw / 6, cw * 4 / 10)).collect();
    let inside = |x: i64, y: i64, (x0, y0, x1, y1): (i64, i64, i64, i64)| {
        (x0..=x1).contains(&x) && (y0..=y1).contains(&y)
    };
    let card = |x: i64, y: i64| -> [u8; 3] {
        let mut c = [225, 235, 245];
        if y <= ch / 8 {
            c = [30, 80, 170];
        }
        let portrait = (cw / 20, ch / 5, cw / 20 + cw / 3, ch / 5 + ch * 55 / 100);
        if inside(x, y, portrait) {
            c = [200, 150, 120];
            let (ex0, ey0) = (cw / 20 + cw / 12, ch / 5 + ch / 12);
            let (ex1, ey1) = (cw / 20 + cw / 4, ch / 5 + ch / 3);
            let (u, v) = (
                (2 * x - ex0 - ex1) as f64 / (ex1 - ex0) as f64,
                (2 * y - ey0 - ey1) as f64 / (ey1 - ey0) as f64,
            );
            if u * u + v * v <= 1.0 {
                c = [120, 80, 60];
            }
        }
        for (i, &len) in bars.iter().enumerate() {
            let y0 = ch / 5 + i as i64 * (ch * 5 / 100);
            if inside(x, y, (cw / 2, y0, cw / 2 + len, y0 + ch * 2 / 100)) {
                c = if (x - cw / 2) % 12 < 2 {
                    [240, 240, 250]
                } else {
                    [20, 20, 40]
                };
            }
        }
        let stripe = (
            cw / 20,
            ch * 85 / 100,
            cw - cw / 20,
            ch * 85 / 100 + ch / 20,
        );
        if inside(x, y, stripe) {
            c = [180, 30, 40];
        }
        c
    };
    for y in at.1.max(0)..(at.1 + ch).min(h) {
        for x in at.0.max(0)..(at.0 + cw).min(w) {
            px[((y * w + x) * 3) as usize..][..3].copy_from_slice(&card(x - at.0, y - at.1));
        }
    }
    jpeg(w as u32, h as u32, &px, ExtendedColorType::Rgb8)
}

#[test]
fn flat_card_crossing_the_frame_is_resubmitted_for_cutoff() {
    // The tester's series: the card's right 0-30 % (x = 500: 300 px, both right corners) out of
    // the frame used to measure 0.03-0.06 (passing at 500) as the bars reaching the border
    // notched the card; then the other sides and a corner.
    let crossing = [
        (300, 700),
        (450, 700),
        (500, 700),
        (550, 700),
        (600, 700),
        (700, 700),
        (800, 700),
        (-100, 700),
        (-300, 700),
        (-500, 700),
        (100, -100),
        (100, -200),
        (100, -300),
        (100, 1300),
        (100, 1400),
        (100, 1500),
        (500, 1500),
        (-300, -200),
    ];
    let mut missed = Vec::new();
    for at in crossing {
        let a = check(&flat_card_photo(at, BROWN));
        let (passed, measured, threshold) = measured(&a, QualityCode::Cutoff);
        if !a.metrics.document_located || passed || measured < 3.0 * threshold {
            missed.push(format!("{at:?}: {}", explain(&a)));
        }
    }
    assert!(missed.is_empty(), "{missed:#?}");
    // Inside, 100 px and 20 px from the nearest side: passes.
    for at in [(100, 585), (180, 700), (20, 1150)] {
        let a = check(&flat_card_photo(at, BROWN));
        assert_eq!(a.verdict, Verdict::Pass, "{at:?}: {}", explain(&a));
        assert_eq!(measured(&a, QualityCode::Cutoff).1, 0.0, "{at:?}");
    }
}

#[test]
fn grey_scans_and_photocopies_are_rejected() {
    let mut grey = sharp();
    grey.grey = true;
    let mut copy = sharp();
    copy.threshold = true;
    let px = grey.render();
    let grey_plane: Vec<u8> = px.chunks_exact(3).map(|p| p[0]).collect();
    let grey_alpha: Vec<u8> = grey_plane.iter().flat_map(|&g| [g, 255]).collect();
    let files = [
        grey.png(),                                     // PNG colour type 0
        copy.png(),                                     // black and white PNG
        scene_jpeg(&grey),                              // grey in a YCbCr JPEG
        jpeg(W, H, &grey_plane, ExtendedColorType::L8), // one-component JPEG
        png_rgb(W, H, &px),                             // grey in an RGB PNG
        // Grey with alpha (also what a grey PNG with a tRNS chunk decodes to).
        png_grey_alpha(W, H, &grey_alpha),
    ];
    for (i, bytes) in files.iter().enumerate() {
        let a = check(bytes);
        assert_eq!(
            a.verdict,
            Verdict::Rejected(vec![QualityCode::Monochrome]),
            "file {i}: {}",
            explain(&a)
        );
        let (_, value, threshold) = measured(&a, QualityCode::Monochrome);
        assert!(value < threshold / 2.0, "file {i}: {value}");
    }
}

#[test]
fn a_sharp_frame_without_a_document_outline_is_resubmitted_for_cutoff() {
    // Colour noise: sharp, well exposed, colourful, and no card anywhere, so no corner in view.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let noise: Vec<u8> = (0..W * H * 3)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let a = check(&png_rgb(W, H, &noise));
    assert!(!a.metrics.document_located, "{}", explain(&a));
    assert_eq!(
        a.verdict,
        Verdict::Resubmit(vec![QualityCode::Cutoff]),
        "{}",
        explain(&a)
    );
    assert_eq!(measured(&a, QualityCode::Cutoff).1, 1.0);
}

#[test]
fn blank_and_black_frames_are_resubmitted_not_rejected_as_scans() {
    // No colour, but no scan either: a lens cap or a blank sheet is a failed photo, which must
    // not use up one of the identity's three rejections.
    for (name, level) in [("blank grey", 128u8), ("black", 0), ("white", 255)] {
        let px = vec![level; (W * H * 3) as usize];
        let a = check(&png_rgb(W, H, &px));
        assert!(
            matches!(&a.verdict, Verdict::Resubmit(reasons)
                if reasons.contains(&QualityCode::Blur) && !reasons.contains(&QualityCode::Monochrome)),
            "{name}: {:?} ({})",
            a.verdict,
            explain(&a)
        );
        assert!(!measured(&a, QualityCode::Monochrome).0, "{name}");
    }
}

#[test]
fn colour_only_at_the_bottom_is_still_colour() {
    // The JPEG shortcut proves colour from the top band; a grey top band must not be read as
    // a grey image: the card here sits low on a neutral grey table.
    let mut s = sharp();
    s.table = [110.0, 110.0, 110.0];
    s.centre = (0.5, 0.7);
    s.noise = 0.3; // sensor noise alone is colour enough to pass the top band
    let a = check(&scene_jpeg(&s));
    assert_eq!(a.verdict, Verdict::Pass, "{}", explain(&a));
}

#[test]
fn low_resolution_is_resubmitted_for_resolution_only() {
    let a = check(&scene_jpeg(&Scene::sharp(400, 600)));
    assert_eq!(
        a.verdict,
        Verdict::Resubmit(vec![QualityCode::Resolution]),
        "{}",
        explain(&a)
    );
    assert_eq!(measured(&a, QualityCode::Resolution), (false, 400.0, 800.0));
    // The long side binds: 900x1100.
    let a = check(&scene_jpeg(&Scene::sharp(900, 1100)));
    assert_eq!(
        measured(&a, QualityCode::Resolution),
        (false, 1100.0, 1200.0)
    );
}

#[test]
fn exif_orientation_is_applied_and_survives_stripping() {
    let bytes = scene_jpeg(&Scene::sharp(1200, 800));
    // Insert an APP1 EXIF block with orientation 6 and a GPS-like tail after SOI.
    let mut tiff = vec![b'M', b'M', 0, 42, 0, 0, 0, 8, 0, 1];
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]);
    tiff.extend_from_slice(b"GPS 51.5074 N 0.1278 W");
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&u16::try_from(tiff.len() + 8).unwrap().to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    let mut with_exif = bytes[..2].to_vec();
    with_exif.extend_from_slice(&app1);
    with_exif.extend_from_slice(&bytes[2..]);

    let accepted = intake(&with_exif, &Limits::default()).unwrap();
    assert_eq!(accepted.orientation, Orientation::Rotate90);
    assert_eq!((accepted.width, accepted.height), (800, 1200));
    assert!(!accepted.stripped.windows(3).any(|w| w == b"GPS"));
    let a = assess(&accepted.stripped, &QualityConfig::default()).unwrap();
    assert_eq!(
        (a.width, a.height, a.orientation),
        (800, 1200, Orientation::Rotate90)
    );
    assert_eq!(a.verdict, Verdict::Pass, "{}", explain(&a));
}

#[test]
fn stripping_is_lossless() {
    let s = sharp();
    for bytes in [scene_jpeg(&s), s.png()] {
        let mut with_text = bytes.clone();
        if bytes.starts_with(b"\x89PNG") {
            // A tEXt chunk after IHDR (8 + 25 bytes).
            let mut chunk = Vec::new();
            let data = b"Author\0Jane Doe, 1 Main St";
            chunk.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
            chunk.extend_from_slice(b"tEXt");
            chunk.extend_from_slice(data);
            let crc = crc(&chunk[4..]);
            chunk.extend_from_slice(&crc.to_be_bytes());
            with_text.splice(33..33, chunk);
        } else {
            let mut com = vec![0xFF, 0xFE, 0, 12];
            com.extend_from_slice(b"Jane Doe!!");
            with_text.splice(2..2, com);
        }
        let stripped = intake(&with_text, &Limits::default()).unwrap().stripped;
        assert!(!stripped.windows(8).any(|w| w == b"Jane Doe"));
        let before = image::load_from_memory(&with_text).unwrap().to_rgb8();
        let after = image::load_from_memory(&stripped).unwrap().to_rgb8();
        assert_eq!(before.as_raw(), after.as_raw(), "pixels changed");
    }
}

fn crc(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    // A valid tiny image whose IHDR is then rewritten: the bomb check must fire on the
    // header alone.
    let mut f = png_grey(2, 2, &[0, 0, 0, 0]);
    f[16..20].copy_from_slice(&width.to_be_bytes());
    f[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc(&f[12..29]);
    f[29..33].copy_from_slice(&crc.to_be_bytes());
    f
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    let jpeg_bomb = {
        let mut f = scene_jpeg(&Scene::sharp(64, 48));
        let sof = f.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        f[sof + 5..sof + 7].copy_from_slice(&40_000u16.to_be_bytes());
        f[sof + 7..sof + 9].copy_from_slice(&40_000u16.to_be_bytes());
        f.truncate(f.len() / 2); // a bomb need not even be complete
        f
    };
    let cases = [
        (png_header_only(50_000, 50_000), 50_000, 50_000),
        (png_header_only(12_001, 10), 12_001, 10),
        (png_header_only(10_001, 10_000), 10_001, 10_000),
        (jpeg_bomb, 40_000, 40_000),
    ];
    for (bytes, width, height) in cases {
        let expected = DocsError::DecompressionBomb { width, height };
        assert_eq!(intake(&bytes, &Limits::default()).unwrap_err(), expected);
        assert_eq!(
            assess(&bytes, &QualityConfig::default()).unwrap_err(),
            expected
        );
    }
    // Exactly 100 megapixels is not a bomb by the header; this one then fails to decode.
    let edge = png_header_only(10_000, 10_000);
    assert!(intake(&edge, &Limits::default()).is_ok());
    let err = assess(&edge, &QualityConfig::default()).unwrap_err();
    assert!(
        !matches!(err, DocsError::DecompressionBomb { .. }),
        "{err:?}"
    );
}

#[test]
fn truncated_files_are_typed_errors() {
    let s = Scene::sharp(160, 120);
    for bytes in [scene_jpeg(&s), s.png()] {
        for cut in [bytes.len() / 2, bytes.len() - 1, 40] {
            let part = &bytes[..cut];
            assert_eq!(
                intake(part, &Limits::default()).unwrap_err(),
                DocsError::Truncated,
                "cut {cut}"
            );
            assert_eq!(
                assess(part, &QualityConfig::default()).unwrap_err(),
                DocsError::Truncated,
                "cut {cut}"
            );
        }
    }
}

#[test]
fn spoofed_and_foreign_files_are_unsupported() {
    let files: [&[u8]; 8] = [
        b"",
        b"GIF89a\x01\x00\x01\x00",
        b"%PDF-1.7\n",
        b"<html><img src=x></html>",
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        b"\x00\x00\x00\x18ftypheic",
        b"II*\x00\x08\x00\x00\x00",
        b"\xFF\xD8", // too short to be a JPEG
    ];
    for f in files {
        assert_eq!(
            intake(f, &Limits::default()).unwrap_err(),
            DocsError::UnsupportedType
        );
        assert_eq!(
            assess(f, &QualityConfig::default()).unwrap_err(),
            DocsError::UnsupportedType
        );
    }
    // The right magic with garbage behind it is a corrupt (or truncated) file, never a panic.
    let mut fake = b"\xFF\xD8\xFF\xE0".to_vec();
    fake.extend_from_slice(&[0x41; 300]);
    let err = intake(&fake, &Limits::default()).unwrap_err();
    assert!(
        matches!(err, DocsError::Corrupt(_) | DocsError::Truncated),
        "{err:?}"
    );
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(b"this is not a chunk stream at all");
    assert!(intake(&png, &Limits::default()).is_err());
    // A PNG renamed .jpg is a PNG: the name never matters, only the bytes.
    let p = Scene::sharp(64, 48).png();
    assert_eq!(
        intake(&p, &Limits::default()).unwrap().format,
        kyc_docs::ImageFormat::Png
    );
}

#[test]
fn size_limit_applies_to_intake() {
    let limits = Limits {
        max_bytes: 1000,
        ..Limits::default()
    };
    let bytes = Scene::sharp(64, 48).png();
    assert!(bytes.len() > 1000);
    assert_eq!(
        intake(&bytes, &limits).unwrap_err(),
        DocsError::TooLarge { limit: 1000 }
    );
}

#[test]
fn errors_have_stable_codes_and_no_content() {
    let e = intake(b"%PDF", &Limits::default()).unwrap_err();
    assert_eq!(e.code(), "unsupported_file_type");
    assert_eq!(DocsError::TooLarge { limit: 1 }.code(), "payload_too_large");
    assert_eq!(
        DocsError::DecompressionBomb {
            width: 1,
            height: 2
        }
        .to_string(),
        "image of 1x2 px exceeds the pixel limits (decompression bomb)"
    );
}

#[test]
fn verdict_serialises_for_the_api() {
    let v = Verdict::Resubmit(vec![QualityCode::Blur, QualityCode::Glare]);
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"{"status":"resubmit","reasons":["blur","glare"]}"#
    );
    assert_eq!(
        serde_json::to_string(&Verdict::Pass).unwrap(),
        r#"{"status":"pass"}"#
    );
}

/// A CMYK JPEG (as print workflows save; this one Pillow's, with the Adobe segment of inverted
/// CMYK) of the sharp scene is decoded to RGB and passes like the RGB original; intake keeps
/// its Adobe segment, without which a decoder would misread the inks.
#[test]
fn a_cmyk_jpeg_is_checked_like_any_photo() {
    let bytes = include_bytes!("fixtures/sharp_cmyk.jpg");
    let accepted = intake(bytes, &Limits::default()).unwrap();
    assert!(
        accepted.stripped.windows(5).any(|w| w == b"Adobe"),
        "the Adobe segment is kept"
    );
    let a = check(bytes);
    assert_eq!(a.verdict, Verdict::Pass, "{}", explain(&a));
    let rgb = check(&scene_jpeg(&sharp()));
    for (cmyk, rgb) in a.checks.iter().zip(&rgb.checks) {
        assert_eq!(cmyk.code, rgb.code);
        assert!(
            (cmyk.measured - rgb.measured).abs() <= 0.1 * rgb.measured.abs().max(1.0),
            "{:?}: CMYK {} against RGB {}",
            cmyk.code,
            cmyk.measured,
            rgb.measured
        );
    }
}
