//! PNG container walk: header facts without inflating, checksum and truncation checks, and a
//! lossless metadata strip that copies the compressed image data chunk for chunk.

use std::ops::Range;

use crate::exif::{self, Orientation};
use crate::{DocsError, Limits};

pub(crate) const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// Ancillary chunks that change how pixels are interpreted (transparency, colour space) and so
/// survive stripping; every other ancillary chunk (text, eXIf, time, physical size, APNG
/// animation...) is dropped.
const KEPT_ANCILLARY: [&[u8; 4]; 7] = [
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"cICP",
];
const CRITICAL: [&[u8; 4]; 4] = [b"IHDR", b"PLTE", b"IDAT", b"IEND"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PngInfo {
    pub width: u32,
    pub height: u32,
    pub interlaced: bool,
    pub orientation: Orientation,
    /// Every chunk up to and including IEND: type and byte range (length field to CRC).
    pub chunks: Vec<([u8; 4], Range<usize>)>,
}

/// Walks the chunks of a PNG up to IEND. With `verify_crc`, every chunk's checksum is checked
/// (intake does; the pixel decoder checks the chunks it reads anyway).
/// The dimensions are checked against `limits` as soon as IHDR is read.
pub(crate) fn parse(bytes: &[u8], limits: &Limits, verify_crc: bool) -> Result<PngInfo, DocsError> {
    if bytes.get(..8) != Some(&SIGNATURE[..]) {
        return Err(DocsError::UnsupportedType);
    }
    let mut info = PngInfo {
        width: 0,
        height: 0,
        interlaced: false,
        orientation: Orientation::Normal,
        chunks: Vec::with_capacity(8),
    };
    let mut pos = 8;
    let mut seen_idat = false;
    let mut seen_exif = false;
    loop {
        let head = bytes.get(pos..pos + 8).ok_or(DocsError::Truncated)?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        if len > 0x7FFF_FFFF {
            return Err(DocsError::Corrupt("invalid PNG chunk length"));
        }
        let kind = [head[4], head[5], head[6], head[7]];
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Err(DocsError::Corrupt("invalid PNG chunk type"));
        }
        let data_start = pos + 8;
        let data_end = data_start
            .checked_add(len as usize)
            .ok_or(DocsError::Truncated)?;
        let end = data_end.checked_add(4).ok_or(DocsError::Truncated)?;
        let whole = bytes.get(pos..end).ok_or(DocsError::Truncated)?;
        let data = &whole[8..whole.len() - 4];
        if verify_crc {
            let stored = u32::from_be_bytes([
                whole[whole.len() - 4],
                whole[whole.len() - 3],
                whole[whole.len() - 2],
                whole[whole.len() - 1],
            ]);
            if crc32fast::hash(&whole[4..whole.len() - 4]) != stored {
                return Err(DocsError::Corrupt("PNG chunk checksum mismatch"));
            }
        }
        let first = info.chunks.is_empty();
        if first != (&kind == b"IHDR") {
            return Err(DocsError::Corrupt(
                "PNG does not start with its header chunk",
            ));
        }
        match &kind {
            b"IHDR" => {
                read_header(data, &mut info)?;
                limits.check_dimensions(info.width, info.height)?;
            }
            b"IDAT" => seen_idat = true,
            b"IEND" => {
                if !seen_idat {
                    return Err(DocsError::Corrupt("PNG has no image data"));
                }
                info.chunks.push((kind, pos..end));
                return Ok(info);
            }
            b"eXIf" if !seen_exif => {
                seen_exif = true;
                info.orientation = exif::orientation(data).unwrap_or_default();
            }
            _ if kind[0].is_ascii_uppercase() && !CRITICAL.contains(&&kind) => {
                return Err(DocsError::UnsupportedEncoding("unknown critical PNG chunk"));
            }
            _ => {}
        }
        info.chunks.push((kind, pos..end));
        pos = end;
    }
}

fn read_header(data: &[u8], info: &mut PngInfo) -> Result<(), DocsError> {
    let [
        w0,
        w1,
        w2,
        w3,
        h0,
        h1,
        h2,
        h3,
        depth,
        colour,
        compression,
        filter,
        interlace,
    ] = data
    else {
        return Err(DocsError::Corrupt("invalid PNG header length"));
    };
    info.width = u32::from_be_bytes([*w0, *w1, *w2, *w3]);
    info.height = u32::from_be_bytes([*h0, *h1, *h2, *h3]);
    let depth_ok = match colour {
        0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(depth, 8 | 16),
        _ => false,
    };
    if !depth_ok || *compression != 0 || *filter != 0 || *interlace > 1 {
        return Err(DocsError::Corrupt("invalid PNG header fields"));
    }
    info.interlaced = *interlace == 1;
    Ok(())
}

/// Rewrites the file keeping the critical chunks and the colour/transparency chunks listed in
/// [`KEPT_ANCILLARY`], in their original order and byte for byte (compressed pixels are never
/// re-encoded), dropping anything after IEND, and, when the EXIF orientation is not `Normal`,
/// adding an `eXIf` chunk holding only that tag right after IHDR.
pub(crate) fn strip(bytes: &[u8], info: &PngInfo) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&SIGNATURE);
    for (kind, range) in &info.chunks {
        if CRITICAL.contains(&kind) || KEPT_ANCILLARY.contains(&kind) {
            out.extend_from_slice(&bytes[range.clone()]);
        }
        if kind == b"IHDR" && info.orientation != Orientation::Normal {
            write_chunk(&mut out, b"eXIf", &exif::minimal_tiff(info.orientation));
        }
    }
    out
}

pub(crate) fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    let crc_from = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32fast::hash(&out[crc_from..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ihdr(w: u32, h: u32) -> Vec<u8> {
        let mut d = Vec::new();
        d.extend_from_slice(&w.to_be_bytes());
        d.extend_from_slice(&h.to_be_bytes());
        d.extend_from_slice(&[8, 2, 0, 0, 0]);
        d
    }

    fn file(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut f = SIGNATURE.to_vec();
        for (k, d) in chunks {
            write_chunk(&mut f, k, d);
        }
        f
    }

    #[test]
    fn strip_drops_text_and_exif_keeps_colour_chunks() {
        let mut exif_data = exif::minimal_tiff(Orientation::Rotate90);
        exif_data.extend_from_slice(b"GPS");
        let h = ihdr(3, 2);
        let f = file(&[
            (b"IHDR", &h),
            (b"gAMA", &[0, 0, 177, 143]),
            (b"tEXt", b"Author\0Jane Doe"),
            (b"eXIf", &exif_data),
            (b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x/>"),
            (b"zTXt", b"Comment\0\0xx"),
            (b"tIME", &[7, 232, 1, 1, 0, 0, 0]),
            (b"IDAT", b"compressed"),
            (b"IEND", b""),
        ]);
        let info = parse(&f, &Limits::default(), true).unwrap();
        assert_eq!((info.width, info.height), (3, 2));
        assert_eq!(info.orientation, Orientation::Rotate90);
        let s = strip(&f, &info);
        let expected = file(&[
            (b"IHDR", &h),
            (b"eXIf", &exif::minimal_tiff(Orientation::Rotate90)),
            (b"gAMA", &[0, 0, 177, 143]),
            (b"IDAT", b"compressed"),
            (b"IEND", b""),
        ]);
        assert_eq!(s, expected);
        assert_eq!(
            parse(&s, &Limits::default(), true).unwrap().orientation,
            Orientation::Rotate90
        );
    }

    #[test]
    fn errors_are_typed() {
        let h = ihdr(3, 2);
        let f = file(&[(b"IHDR", &h), (b"IDAT", b"x"), (b"IEND", b"")]);
        assert!(parse(&f, &Limits::default(), true).is_ok());
        for cut in 8..f.len() {
            assert_eq!(
                parse(&f[..cut], &Limits::default(), true),
                Err(DocsError::Truncated),
                "cut {cut}"
            );
        }
        let mut bad_crc = f.clone();
        let last = bad_crc.len() - 1;
        bad_crc[last] ^= 1;
        assert!(matches!(
            parse(&bad_crc, &Limits::default(), true),
            Err(DocsError::Corrupt(_))
        ));
        assert!(parse(&bad_crc, &Limits::default(), false).is_ok());
        let no_header = file(&[(b"IDAT", b"x"), (b"IEND", b"")]);
        assert!(matches!(
            parse(&no_header, &Limits::default(), true),
            Err(DocsError::Corrupt(_))
        ));
        let critical = file(&[
            (b"IHDR", &h),
            (b"ZZZZ", b""),
            (b"IDAT", b"x"),
            (b"IEND", b""),
        ]);
        assert!(matches!(
            parse(&critical, &Limits::default(), true),
            Err(DocsError::UnsupportedEncoding(_))
        ));
        let mut depth = h.clone();
        depth[8] = 3;
        let bad_depth = file(&[(b"IHDR", &depth), (b"IDAT", b"x"), (b"IEND", b"")]);
        assert!(matches!(
            parse(&bad_depth, &Limits::default(), true),
            Err(DocsError::Corrupt(_))
        ));
    }
}
