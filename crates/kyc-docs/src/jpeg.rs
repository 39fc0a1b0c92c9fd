//! JPEG container walk: header facts without decoding, truncation detection, and a lossless
//! metadata strip that copies the coded image data byte for byte.

use std::ops::Range;

use crate::exif::{self, Orientation};
use crate::{DocsError, Limits};

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP1: u8 = 0xE1;
const APP2: u8 = 0xE2;
const APP14: u8 = 0xEE;
const COM: u8 = 0xFE;

/// What the headers of a JPEG say, read without decoding a pixel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JpegInfo {
    pub width: u32,
    pub height: u32,
    pub components: u8,
    pub progressive: bool,
    /// Number of start-of-scan segments (more than one needs whole-image coefficient buffers).
    pub scans: u32,
    /// Largest horizontal and vertical sampling factors.
    pub max_sampling: (u8, u8),
    /// Sum over components of horizontal x vertical sampling factors: blocks per MCU.
    pub blocks_per_mcu: u32,
    pub orientation: Orientation,
    /// Byte ranges, in file order, of every segment up to and including EOI, each starting at its
    /// marker's 0xFF and running to the next marker (so a scan includes its coded data).
    pub segments: Vec<(u8, Range<usize>)>,
}

/// Walks the marker segments of a JPEG (which must start with SOI) up to EOI.
///
/// Everything is bounds-checked; a file that ends before EOI is [`DocsError::Truncated`].
/// The frame dimensions are checked against `limits` as soon as the frame header is read, so a
/// decompression bomb is reported as such even when the rest of the file is missing.
pub(crate) fn parse(bytes: &[u8], limits: &Limits) -> Result<JpegInfo, DocsError> {
    if bytes.get(..2) != Some(&[0xFF, SOI]) {
        return Err(DocsError::UnsupportedType);
    }
    let mut info = JpegInfo {
        width: 0,
        height: 0,
        components: 0,
        progressive: false,
        scans: 0,
        max_sampling: (1, 1),
        blocks_per_mcu: 0,
        orientation: Orientation::Normal,
        segments: Vec::with_capacity(16),
    };
    let mut seen_sof = false;
    let mut seen_exif = false;
    let mut pos = 2;
    loop {
        // A marker: one or more 0xFF fill bytes, then the marker code.
        match bytes.get(pos) {
            None => return Err(DocsError::Truncated),
            Some(0xFF) => {}
            Some(_) => return Err(DocsError::Corrupt("expected a JPEG marker")),
        }
        while bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let start = pos;
        let marker = *bytes.get(pos + 1).ok_or(DocsError::Truncated)?;
        pos += 2;
        match marker {
            EOI => {
                if info.scans == 0 {
                    return Err(DocsError::Corrupt("JPEG has no image data"));
                }
                info.segments.push((marker, start..pos));
                return Ok(info);
            }
            SOI => return Err(DocsError::Corrupt("unexpected start of image marker")),
            0x00 => return Err(DocsError::Corrupt("invalid JPEG marker")),
            // Standalone markers outside a scan: tolerated, dropped when stripping.
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let len_bytes = bytes.get(pos..pos + 2).ok_or(DocsError::Truncated)?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        if len < 2 {
            return Err(DocsError::Corrupt("invalid JPEG segment length"));
        }
        let end = pos + len;
        let body = bytes.get(pos + 2..end).ok_or(DocsError::Truncated)?;
        match marker {
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if seen_sof {
                    return Err(DocsError::Corrupt("more than one JPEG frame header"));
                }
                seen_sof = true;
                read_frame_header(marker, body, &mut info)?;
                limits.check_dimensions(info.width, info.height)?;
            }
            SOS => {
                if !seen_sof {
                    return Err(DocsError::Corrupt("JPEG scan before the frame header"));
                }
                info.scans += 1;
                let data_end = skip_entropy_coded(bytes, end)?;
                info.segments.push((marker, start..data_end));
                pos = data_end;
                continue;
            }
            APP1 if !seen_exif => {
                if let Some(tiff) = body.strip_prefix(b"Exif\0\0") {
                    seen_exif = true;
                    info.orientation = exif::orientation(tiff).unwrap_or_default();
                }
            }
            _ => {}
        }
        info.segments.push((marker, start..end));
        pos = end;
    }
}

fn read_frame_header(marker: u8, body: &[u8], info: &mut JpegInfo) -> Result<(), DocsError> {
    match marker {
        0xC0 | 0xC1 => {}
        0xC2 => info.progressive = true,
        0xC3 => return Err(DocsError::UnsupportedEncoding("lossless JPEG")),
        0xC5..=0xC7 => return Err(DocsError::UnsupportedEncoding("hierarchical JPEG")),
        _ => return Err(DocsError::UnsupportedEncoding("arithmetic-coded JPEG")),
    }
    let [precision, h0, h1, w0, w1, count, comps @ ..] = body else {
        return Err(DocsError::Corrupt("short JPEG frame header"));
    };
    if *precision != 8 {
        return Err(DocsError::UnsupportedEncoding(
            "JPEG sample precision other than 8 bits",
        ));
    }
    info.height = u32::from(u16::from_be_bytes([*h0, *h1]));
    info.width = u32::from(u16::from_be_bytes([*w0, *w1]));
    if info.height == 0 {
        return Err(DocsError::UnsupportedEncoding(
            "JPEG height defined after the first scan",
        ));
    }
    if !matches!(count, 1 | 3 | 4) {
        return Err(DocsError::UnsupportedEncoding(
            "JPEG colour model (only grey, YCbCr/RGB and CMYK/YCCK)",
        ));
    }
    info.components = *count;
    let comps = comps
        .get(..3 * usize::from(*count))
        .ok_or(DocsError::Corrupt("short JPEG frame header"))?;
    for c in comps.chunks_exact(3) {
        let (h, v) = (c[1] >> 4, c[1] & 0x0F);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
            return Err(DocsError::Corrupt("invalid JPEG sampling factors"));
        }
        info.max_sampling = (info.max_sampling.0.max(h), info.max_sampling.1.max(v));
        info.blocks_per_mcu += u32::from(h) * u32::from(v);
    }
    Ok(())
}

/// The offset of the first marker after the entropy-coded data starting at `from` (byte
/// stuffing `FF 00` and restart markers belong to the data).
fn skip_entropy_coded(bytes: &[u8], from: usize) -> Result<usize, DocsError> {
    let mut pos = from;
    loop {
        let rest = bytes.get(pos..).ok_or(DocsError::Truncated)?;
        let ff = find_ff(rest).ok_or(DocsError::Truncated)?;
        let at = pos + ff;
        match bytes.get(at + 1) {
            None => return Err(DocsError::Truncated),
            Some(0x00 | 0xD0..=0xD7) => pos = at + 2,
            // 0xFF 0xFF is fill before a marker; the marker walk skips fill bytes.
            Some(_) => return Ok(at),
        }
    }
}

/// Position of the first 0xFF; checks 32 bytes per step so the compiler can vectorise the
/// common case of a chunk without one.
fn find_ff(data: &[u8]) -> Option<usize> {
    let mut base = 0;
    let mut chunks = data.chunks_exact(32);
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |any, &b| any | (b == 0xFF)) {
            return chunk.iter().position(|&b| b == 0xFF).map(|i| base + i);
        }
        base += 32;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == 0xFF)
        .map(|i| base + i)
}

/// Rewrites the file without metadata: drops every APPn and COM segment except the ICC colour
/// profile (APP2 `ICC_PROFILE`) and the Adobe segment (APP14, tells decoders whether three
/// components are YCbCr or RGB), drops anything after EOI, and, when the EXIF orientation is not
/// `Normal`, writes a fresh APP1 holding only that tag so viewers still display the image
/// upright. Tables, frame and scans are copied unchanged: no pixel is re-encoded.
pub(crate) fn strip(bytes: &[u8], info: &JpegInfo) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, SOI]);
    if info.orientation != Orientation::Normal {
        let tiff = exif::minimal_tiff(info.orientation);
        let len = 2 + 6 + tiff.len();
        out.extend_from_slice(&[0xFF, APP1]);
        out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
        out.extend_from_slice(b"Exif\0\0");
        out.extend_from_slice(&tiff);
    }
    for (marker, range) in &info.segments {
        let segment = &bytes[range.clone()];
        let keep = match *marker {
            APP2 => segment
                .get(4..)
                .is_some_and(|b| b.starts_with(b"ICC_PROFILE\0")),
            APP14 => segment.get(4..).is_some_and(|b| b.starts_with(b"Adobe")),
            0xE0..=0xEF | COM => false,
            _ => true,
        };
        if keep {
            out.extend_from_slice(segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_default(bytes: &[u8]) -> Result<JpegInfo, DocsError> {
        parse(bytes, &Limits::default())
    }

    /// A structurally valid JPEG skeleton: SOI, APPn/COM, SOF0, SOS with fake data, EOI.
    fn skeleton(extra: &[&[u8]], data: &[u8]) -> Vec<u8> {
        let mut f = vec![0xFF, SOI];
        for seg in extra {
            f.extend_from_slice(seg);
        }
        f.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0, 16, 0, 32, 1, 1, 0x11, 0]);
        f.extend_from_slice(&[0xFF, SOS, 0, 8, 1, 1, 0, 0, 63, 0]);
        f.extend_from_slice(data);
        f.extend_from_slice(&[0xFF, EOI]);
        f
    }

    fn app(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        s.extend_from_slice(payload);
        s
    }

    #[test]
    fn reads_dimensions_and_orientation() {
        let mut exif = b"Exif\0\0".to_vec();
        exif.extend(exif::minimal_tiff(Orientation::Rotate270));
        let f = skeleton(&[&app(APP1, &exif)], &[1, 2, 0xFF, 0, 3, 0xFF, 0xD3, 4]);
        let info = parse_default(&f).unwrap();
        assert_eq!((info.width, info.height, info.components), (32, 16, 1));
        assert_eq!(info.orientation, Orientation::Rotate270);
        assert_eq!(info.scans, 1);
    }

    #[test]
    fn strip_keeps_icc_and_adobe_drops_the_rest() {
        let gps = app(APP1, b"Exif\0\0MM\0*\0\0\0\x08\0\0GPS secret");
        let xmp = app(APP1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>");
        let icc = app(APP2, b"ICC_PROFILE\0\x01\x01profile");
        let adobe = app(APP14, b"Adobe\0\x64\0\0\0\0\x01");
        let com = app(COM, b"a comment");
        let jfif = app(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let data = [9u8, 8, 7, 0xFF, 0, 6];
        let f = skeleton(&[&jfif, &gps, &xmp, &icc, &adobe, &com], &data);
        let mut with_trailer = f.clone();
        with_trailer.extend_from_slice(b"trailing second image");
        let info = parse_default(&with_trailer).unwrap();
        let s = strip(&with_trailer, &info);
        let clean = skeleton(&[&icc, &adobe], &data);
        assert_eq!(s, clean);
        assert_eq!(parse_default(&s).unwrap().width, 32);
    }

    #[test]
    fn strip_writes_orientation_only() {
        let mut exif = b"Exif\0\0".to_vec();
        exif.extend(exif::minimal_tiff(Orientation::Rotate90));
        exif.extend_from_slice(b"camera serial 1234");
        let f = skeleton(&[&app(APP1, &exif)], &[1, 2, 3]);
        let s = strip(&f, &parse_default(&f).unwrap());
        let info = parse_default(&s).unwrap();
        assert_eq!(info.orientation, Orientation::Rotate90);
        assert!(!s.windows(6).any(|w| w == b"serial"));
        assert_eq!(s.len(), f.len() - 18);
    }

    #[test]
    fn truncation_and_corruption_are_typed() {
        let f = skeleton(&[], &[1, 2, 3, 4]);
        for cut in 2..f.len() - 1 {
            let r = parse_default(&f[..cut]);
            assert!(
                matches!(r, Err(DocsError::Truncated | DocsError::Corrupt(_))),
                "cut at {cut}: {r:?}"
            );
        }
        assert_eq!(parse_default(&f[..f.len() - 2]), Err(DocsError::Truncated));
        let mut twice = f.clone();
        twice.splice(2..2, [0xFF, 0xC0, 0, 11, 8, 0, 16, 0, 32, 1, 1, 0x11, 0]);
        assert!(matches!(parse_default(&twice), Err(DocsError::Corrupt(_))));
        let mut arith = f.clone();
        arith[3] = 0xC9;
        assert!(matches!(
            parse_default(&arith),
            Err(DocsError::UnsupportedEncoding(_))
        ));
    }

    #[test]
    fn find_ff_agrees_with_position() {
        let mut v = vec![0u8; 100];
        assert_eq!(find_ff(&v), None);
        for i in [0, 31, 32, 63, 64, 99] {
            v.fill(0);
            v[i] = 0xFF;
            assert_eq!(find_ff(&v), Some(i));
        }
    }
}
