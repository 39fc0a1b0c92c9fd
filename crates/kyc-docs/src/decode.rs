//! The one module where pixels are decoded. Every function here runs after the container walk
//! (so dimensions are already within [`Limits`]), caps the decoders' own dimension and
//! allocation limits, checks its memory estimate against [`Limits::max_decode_bytes`] before
//! allocating, and reuses caller-provided buffers.

use std::io::Cursor;

use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use crate::jpeg::JpegInfo;
use crate::png::PngInfo;
use crate::{DocsError, Limits};

/// Channel layout of decoded pixels; always 8 bits per channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    Gray,
    GrayAlpha,
    Rgb,
    Rgba,
}

impl Layout {
    pub(crate) const fn channels(self) -> usize {
        match self {
            Self::Gray => 1,
            Self::GrayAlpha => 2,
            Self::Rgb => 3,
            Self::Rgba => 4,
        }
    }
}

/// Receives a PNG top to bottom, one row of `width * channels` bytes at a time.
pub(crate) trait RowSink {
    fn begin(&mut self, width: usize, height: usize, layout: Layout);
    fn row(&mut self, y: usize, row: &[u8]);
}

fn budget(needed: u64, limits: &Limits) -> Result<usize, DocsError> {
    let limit = limits.max_decode_bytes;
    if needed > limit {
        return Err(DocsError::MemoryLimit { limit });
    }
    usize::try_from(needed).map_err(|_| DocsError::MemoryLimit { limit })
}

/// Bytes zune-jpeg allocates besides the output: whole-image coefficient planes (i16) when the
/// image has more than one scan (progressive or non-interleaved baseline).
fn jpeg_coefficients(info: &JpegInfo) -> u64 {
    if info.scans <= 1 && !info.progressive {
        return 0;
    }
    let mcu_w = u64::from(info.width).div_ceil(8 * u64::from(info.max_sampling.0));
    let mcu_h = u64::from(info.height).div_ceil(8 * u64::from(info.max_sampling.1));
    mcu_w * mcu_h * u64::from(info.blocks_per_mcu) * 64 * 2
}

/// What to decode a JPEG to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JpegTarget {
    /// The luma plane only (for YCbCr files the decoder skips the chroma transform entirely).
    Luma,
    /// Interleaved RGB.
    Rgb,
}

/// Whole-image decodes are strict: coded data that runs out or does not decode is an error,
/// not a grey or garbled area that would then be scored (the top-rows shortcut is lenient on
/// purpose, since it decodes a prefix).
fn jpeg_options(limits: &Limits, colorspace: ColorSpace, strict: bool) -> DecoderOptions {
    let side = limits.max_side as usize;
    DecoderOptions::default()
        .set_max_width(side)
        .set_max_height(side)
        .set_strict_mode(strict)
        .jpeg_set_out_colorspace(colorspace)
}

/// Decodes a whole JPEG into `out` and returns its size and layout. Asked for `Luma`, a file
/// whose colour model is not YCbCr or grey (an RGB, CMYK or YCCK JPEG) is decoded to RGB
/// instead and the layout says so; `extra` bytes the caller will allocate on top are counted
/// in the budget.
pub(crate) fn jpeg(
    bytes: &[u8],
    info: &JpegInfo,
    limits: &Limits,
    target: JpegTarget,
    extra: u64,
    out: &mut Vec<u8>,
) -> Result<(usize, usize, Layout), DocsError> {
    let pixels = u64::from(info.width) * u64::from(info.height);
    let want = match target {
        JpegTarget::Luma => ColorSpace::Luma,
        JpegTarget::Rgb => ColorSpace::RGB,
    };
    let mut decoder =
        JpegDecoder::new_with_options(ZCursor::new(bytes), jpeg_options(limits, want, true));
    decoder.decode_headers().map_err(jpeg_error)?;
    let input = decoder
        .input_colorspace()
        .ok_or(DocsError::Corrupt("JPEG header could not be read"))?;
    let (colorspace, layout) = match (want, input) {
        (_, ColorSpace::Luma) => (ColorSpace::Luma, Layout::Gray),
        (ColorSpace::Luma, ColorSpace::YCbCr) => (ColorSpace::Luma, Layout::Gray),
        // Print workflows save CMYK (or YCCK) JPEGs; the decoder converts them to RGB,
        // following the Adobe segment that intake keeps.
        (_, ColorSpace::YCbCr | ColorSpace::RGB | ColorSpace::CMYK | ColorSpace::YCCK) => {
            (ColorSpace::RGB, Layout::Rgb)
        }
        _ => return Err(DocsError::UnsupportedEncoding("JPEG colour model")),
    };
    if colorspace != want {
        decoder.set_options(jpeg_options(limits, colorspace, true));
    }
    let channels = layout.channels() as u64;
    budget(pixels * channels + jpeg_coefficients(info) + extra, limits)?;
    let (w, h) = decoder
        .dimensions()
        .ok_or(DocsError::Corrupt("JPEG header could not be read"))?;
    if (w as u64, h as u64) != (u64::from(info.width), u64::from(info.height)) {
        return Err(DocsError::Corrupt(
            "JPEG frame size disagrees with the decoder",
        ));
    }
    let size = decoder
        .output_buffer_size()
        .filter(|&s| s as u64 == pixels * channels)
        .ok_or(DocsError::Corrupt(
            "JPEG output size disagrees with the decoder",
        ))?;
    // Reused without clearing: the decoder writes every output byte.
    if out.len() < size {
        out.resize(size, 0);
    }
    decoder.decode_into(&mut out[..size]).map_err(jpeg_error)?;
    Ok((w, h, layout))
}

/// Decodes only the top of a single-scan YCbCr JPEG, at least `rows` rows, to RGB: the frame
/// header is rewritten to a smaller height and the decoder is given a generous prefix of the
/// coded data, so the cost is about that share of a full decode. Returns the decoded height,
/// or `None` when the shortcut does not apply or the prefix turned out too short (the caller
/// verifies the rows against the full luma plane and falls back to a full decode).
pub(crate) fn jpeg_top_rows(
    bytes: &[u8],
    info: &JpegInfo,
    limits: &Limits,
    rows: usize,
    scratch: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<Option<usize>, DocsError> {
    if info.progressive || info.scans != 1 || info.components != 3 {
        return Ok(None);
    }
    let sof = info
        .segments
        .iter()
        .find(|(m, _)| (0xC0..=0xCF).contains(m) && !matches!(m, 0xC4 | 0xC8 | 0xCC));
    let sos = info.segments.iter().find(|(m, _)| *m == 0xDA);
    let (Some((_, sof)), Some((_, sos))) = (sof, sos) else {
        return Ok(None);
    };
    let height = info.height as usize;
    let mcu_rows = 8 * usize::from(info.max_sampling.1);
    // One extra MCU row, so the chroma upsampling at the cut does not touch the rows used.
    let band = (rows.div_ceil(mcu_rows) + 1) * mcu_rows;
    if band >= height {
        return Ok(None);
    }
    let header_len = bytes
        .get(sos.start + 2..sos.start + 4)
        .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        .ok_or(DocsError::Corrupt("short JPEG scan header"))?;
    let data_start = sos.start + 2 + header_len;
    let coded = sos.end.saturating_sub(data_start);
    // Twice the band's share of the coded data, plus slack, covers dense top rows; what is
    // left over is only scanned for the end marker.
    let share = band as f64 / height as f64;
    let take = ((coded as f64 * share * 2.0) as usize + 8_192).min(coded);
    budget(
        (data_start + take + 2) as u64 + (info.width as u64) * (band as u64) * 3,
        limits,
    )?;
    scratch.clear();
    scratch.extend_from_slice(&bytes[..data_start]);
    scratch.extend_from_slice(&bytes[data_start..data_start + take]);
    scratch.extend_from_slice(&[0xFF, 0xD9]);
    let band16 = u16::try_from(band).map_err(|_| DocsError::Corrupt("JPEG height"))?;
    scratch[sof.start + 5..sof.start + 7].copy_from_slice(&band16.to_be_bytes());

    let mut decoder = JpegDecoder::new_with_options(
        ZCursor::new(&scratch[..]),
        jpeg_options(limits, ColorSpace::RGB, false),
    );
    if decoder.decode_headers().is_err() || decoder.input_colorspace() != Some(ColorSpace::YCbCr) {
        return Ok(None);
    }
    let size = info.width as usize * band * 3;
    if decoder.output_buffer_size() != Some(size) {
        return Ok(None);
    }
    if out.len() < size {
        out.resize(size, 0);
    }
    Ok(decoder.decode_into(&mut out[..size]).ok().map(|()| band))
}

fn jpeg_error(e: zune_jpeg::errors::DecodeErrors) -> DocsError {
    use zune_jpeg::errors::DecodeErrors as E;
    match e {
        E::ExhaustedData | E::FormatStatic("Premature end of buffer") => DocsError::Truncated,
        E::LargeDimensions(_) => DocsError::Corrupt("JPEG dimensions over the decoder limit"),
        other => DocsError::Decode(other.to_string()),
    }
}

/// Decodes a PNG (any bit depth and colour type, normalised to 8 bits) row by row into `sink`.
/// Interlaced images are decoded whole into `frame` first.
pub(crate) fn png(
    bytes: &[u8],
    info: &PngInfo,
    limits: &Limits,
    extra: u64,
    frame: &mut Vec<u8>,
    sink: &mut impl RowSink,
) -> Result<(), DocsError> {
    let png_limits = png::Limits {
        bytes: usize::try_from(limits.max_decode_bytes).unwrap_or(usize::MAX),
    };
    let png_error = |e| png_error(e, limits);
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png_limits);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    decoder.set_ignore_text_chunk(true);
    let mut reader = decoder.read_info().map_err(png_error)?;
    let (w, h) = (reader.info().width, reader.info().height);
    if (w, h) != (info.width, info.height) {
        return Err(DocsError::Corrupt("PNG size disagrees with the decoder"));
    }
    let layout = match reader.output_color_type() {
        (png::ColorType::Grayscale, png::BitDepth::Eight) => Layout::Gray,
        (png::ColorType::GrayscaleAlpha, png::BitDepth::Eight) => Layout::GrayAlpha,
        (png::ColorType::Rgb, png::BitDepth::Eight) => Layout::Rgb,
        (png::ColorType::Rgba, png::BitDepth::Eight) => Layout::Rgba,
        _ => return Err(DocsError::UnsupportedEncoding("PNG colour type")),
    };
    let (w, h) = (w as usize, h as usize);
    let line = w * layout.channels();
    let whole = (line as u64) * (h as u64);
    budget(
        extra
            + if info.interlaced {
                whole
            } else {
                2 * line as u64
            },
        limits,
    )?;
    sink.begin(w, h, layout);
    if info.interlaced {
        // Adam7 delivers passes, not rows: decode the whole frame first.
        let size = whole as usize;
        if frame.len() < size {
            frame.resize(size, 0);
        }
        let out = &mut frame[..size];
        reader.next_frame(out).map_err(png_error)?;
        for (y, row) in out.chunks_exact(line).enumerate() {
            sink.row(y, row);
        }
    } else {
        let mut y = 0;
        while let Some(row) = reader.next_row().map_err(png_error)? {
            let data = row.data();
            if data.len() != line || y == h {
                return Err(DocsError::Corrupt("PNG row size disagrees with the header"));
            }
            sink.row(y, data);
            y += 1;
        }
        if y != h {
            return Err(DocsError::Truncated);
        }
    }
    Ok(())
}

fn png_error(e: png::DecodingError, limits: &Limits) -> DocsError {
    match e {
        png::DecodingError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            DocsError::Truncated
        }
        png::DecodingError::LimitsExceeded => DocsError::MemoryLimit {
            limit: limits.max_decode_bytes,
        },
        other => DocsError::Decode(other.to_string()),
    }
}
