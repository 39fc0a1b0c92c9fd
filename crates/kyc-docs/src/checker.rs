//! The quality pipeline: container walk, one decoding pass, working scale, document location,
//! then the six checks.

use kyc_model::{QualityCheck, QualityCode};

use crate::DocsError;
use crate::analyze::{Boxed, FrameStats, analyze_plane, luma_row};
use crate::blobs::Blobs;
use crate::colour::BandColour;
use crate::decode::{self, JpegTarget, Layout, RowSink};
use crate::intake::{Container, read_container};
use crate::jpeg::JpegInfo;
use crate::png::PngInfo;
use crate::quality::{Assessment, Metrics, QualityConfig, Verdict};
use crate::resample::{Resampler, box_down};
use crate::segment::{Document, Plausible, Segmenter};

/// Runs [`assess`](crate::assess) with buffers kept between images, so a worker checking many
/// uploads does not allocate per image.
#[derive(Default)]
pub struct Checker {
    config: QualityConfig,
    /// Decoded pixels: the JPEG luma plane, then (if needed) the RGB image; a PNG's
    /// interlaced frame.
    pixels: Vec<u8>,
    /// Luma plane computed from RGB (PNG, RGB JPEG).
    plane: Vec<u8>,
    /// The rewritten JPEG prefix and its decoded top rows.
    prefix: Vec<u8>,
    top: Vec<u8>,
    colour: BandColour,
    boxed: Boxed,
    resampler: Resampler,
    working: Vec<f32>,
    coarse: Vec<f32>,
    segmenter: Segmenter,
    blobs: Blobs,
    spans: Vec<(usize, usize)>,
}

// The buffers hold image content (PII): Debug shows the configuration only.
impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Figures measured on the document region at the working scale.
#[derive(Clone, Copy, Debug, Default)]
struct RegionStats {
    pixels: u64,
    laplacian_var: f64,
    p90: f64,
    dark_share: f64,
    bright_share: f64,
    saturated: u64,
}

/// Rows of a PNG become the luma plane and the colour statistics.
struct PngSink<'a> {
    plane: &'a mut Vec<u8>,
    colour: &'a mut BandColour,
    width: usize,
    layout: Layout,
}

impl RowSink for PngSink<'_> {
    fn begin(&mut self, width: usize, height: usize, layout: Layout) {
        self.width = width;
        self.layout = layout;
        self.plane.clear();
        self.plane.resize(width * height, 0);
        self.colour.reset(height);
    }

    fn row(&mut self, y: usize, row: &[u8]) {
        let Some(dst) = self.plane.get_mut(y * self.width..(y + 1) * self.width) else {
            return;
        };
        match self.layout {
            Layout::Gray => dst.copy_from_slice(&row[..self.width]),
            Layout::GrayAlpha => {
                for (g, p) in dst.iter_mut().zip(row.chunks_exact(2)) {
                    *g = p[0];
                }
            }
            Layout::Rgb => {
                luma_row::<3>(row, dst);
                self.colour.add_row::<3>(y, row);
            }
            Layout::Rgba => {
                luma_row::<4>(row, dst);
                self.colour.add_row::<4>(y, row);
            }
        }
    }
}

impl Checker {
    pub fn new(config: QualityConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    pub fn config(&self) -> &QualityConfig {
        &self.config
    }

    /// Decodes `bytes` (JPEG or PNG, within the configured limits) and runs every check.
    pub fn assess(&mut self, bytes: &[u8]) -> Result<Assessment, DocsError> {
        let limits = self.config.limits;
        let container = read_container(bytes, &limits, false)?;
        let (sw, sh) = container.size();
        let (sw, sh) = (sw as usize, sh as usize);
        let target = (self.config.working_long_side as usize).max(8);
        // Integer box factor during the full-resolution pass, exact area resampling after.
        let k = (sw.max(sh) / target).min(sw.min(sh)).max(1);
        let (frame, colourfulness) = match &container {
            Container::Jpeg(info) => self.jpeg_pass(bytes, info, k)?,
            Container::Png(info) => self.png_pass(bytes, info, k)?,
        };
        let (bw, bh) = self.boxed.size;
        if bw == 0 || bh == 0 || self.boxed.data.len() != bw * bh {
            return Err(DocsError::Corrupt("decoded image is incomplete"));
        }
        let long = bw.max(bh);
        let (ww, wh) = if long > target {
            let scale = |v: usize| ((v * target + long / 2) / long).max(1);
            (scale(bw), scale(bh))
        } else {
            (bw, bh)
        };
        if (ww, wh) == (bw, bh) {
            std::mem::swap(&mut self.working, &mut self.boxed.data);
        } else {
            self.resampler
                .resize(&self.boxed.data, (bw, bh), (ww, wh), &mut self.working);
        }
        let coarse_long = (self.config.coarse_long_side as usize).max(8);
        let c = ((ww.max(wh) + coarse_long / 2) / coarse_long).max(1);
        let coarse_size = box_down(&self.working, (ww, wh), c, &mut self.coarse);
        let bounds = Plausible {
            min_area: self.config.document_min_area,
            max_area: self.config.document_max_area,
            min_shape: self.config.document_min_shape,
        };
        let doc = self.segmenter.locate(&self.coarse, coarse_size, bounds);
        let region = region_stats(
            &self.working,
            (ww, wh),
            &self.coarse,
            &doc,
            c,
            (self.config.exposure_dark_level, self.config.glare_level),
        );
        let glare = if region.saturated > 0 {
            self.glare_fraction((ww, wh), &doc, c, region.pixels)
        } else {
            0.0
        };

        let orientation = container.orientation();
        let (width, height) = orientation.display_size(sw as u32, sh as u32);
        let checks = self.checks((width, height), colourfulness, &region, glare, &doc);
        let verdict = Verdict::from_checks(&checks);
        Ok(Assessment {
            format: container.format(),
            width,
            height,
            orientation,
            checks,
            verdict,
            metrics: Metrics {
                laplacian_var: frame.map(|f| f.laplacian_var),
                glare_fraction: frame.map(|f| f.glare_fraction),
                colourfulness,
                working_width: ww as u32,
                working_height: wh as u32,
                document_located: doc.located,
                document_area_fraction: doc.area_fraction,
                document_solidity: doc.solidity,
                document_rectangularity: doc.rectangularity,
            },
        })
    }

    /// JPEG: decode the luma plane only and analyse it; then prove colour from a decode of
    /// the top band, or measure it on a full RGB decode when the top band is grey.
    fn jpeg_pass(
        &mut self,
        bytes: &[u8],
        info: &JpegInfo,
        k: usize,
    ) -> Result<(Option<FrameStats>, f64), DocsError> {
        let limits = self.config.limits;
        let reference = self.config.reference_metrics;
        let threshold = self.config.monochrome_min_colourfulness;
        let (w, h) = (info.width as usize, info.height as usize);
        let extra = (w * h) as u64; // a luma plane, if the file turns out to be RGB
        let (w, h, layout) = decode::jpeg(
            bytes,
            info,
            &limits,
            JpegTarget::Luma,
            extra,
            &mut self.pixels,
        )?;
        if layout == Layout::Rgb {
            // An RGB (not YCbCr) JPEG: the luma is computed, the colour is right there.
            self.plane.clear();
            self.plane.resize(w * h, 0);
            self.colour.reset(h);
            for (y, (src, dst)) in self.pixels[..w * h * 3]
                .chunks_exact(w * 3)
                .zip(self.plane.chunks_exact_mut(w))
                .enumerate()
            {
                luma_row::<3>(src, dst);
                self.colour.add_row::<3>(y, src);
            }
            let frame = analyze_plane(&self.plane, (w, h), k, reference, &mut self.boxed);
            return Ok((frame, self.colour.measure(threshold)));
        }
        let frame = analyze_plane(&self.pixels[..w * h], (w, h), k, reference, &mut self.boxed);
        if info.components == 1 {
            return Ok((frame, 0.0));
        }
        self.colour.reset(h);
        let rows = self.colour.band_rows();
        let top =
            decode::jpeg_top_rows(bytes, info, &limits, rows, &mut self.prefix, &mut self.top)?;
        if top.is_some() && rows_match(&self.top, &self.pixels[..w * h], w, rows) {
            for (y, row) in self.top.chunks_exact(w * 3).take(rows).enumerate() {
                self.colour.add_row::<3>(y, row);
            }
            let first = self.colour.first();
            if first >= threshold {
                return Ok((frame, first));
            }
        }
        // The top band is grey (or the shortcut did not apply): measure every band.
        self.colour.reset(h);
        let (w, h, layout) =
            decode::jpeg(bytes, info, &limits, JpegTarget::Rgb, 0, &mut self.pixels)?;
        if layout != Layout::Rgb {
            return Ok((frame, 0.0));
        }
        for (y, row) in self.pixels[..w * h * 3].chunks_exact(w * 3).enumerate() {
            self.colour.add_row::<3>(y, row);
        }
        Ok((frame, self.colour.measure(threshold)))
    }

    fn png_pass(
        &mut self,
        bytes: &[u8],
        info: &PngInfo,
        k: usize,
    ) -> Result<(Option<FrameStats>, f64), DocsError> {
        let limits = self.config.limits;
        let reference = self.config.reference_metrics;
        let mut sink = PngSink {
            plane: &mut self.plane,
            colour: &mut self.colour,
            width: 0,
            layout: Layout::Gray,
        };
        let extra = u64::from(info.width) * u64::from(info.height);
        decode::png(bytes, info, &limits, extra, &mut self.pixels, &mut sink)?;
        let (w, layout) = (sink.width, sink.layout);
        let h = self.plane.len().checked_div(w).unwrap_or(0);
        let frame = analyze_plane(&self.plane, (w, h), k, reference, &mut self.boxed);
        let colourfulness = match layout {
            Layout::Gray | Layout::GrayAlpha => 0.0,
            Layout::Rgb | Layout::Rgba => self
                .colour
                .measure(self.config.monochrome_min_colourfulness),
        };
        Ok((frame, colourfulness))
    }

    fn checks(
        &self,
        (width, height): (u32, u32),
        colourfulness: f64,
        region: &RegionStats,
        glare: f64,
        doc: &Document,
    ) -> Vec<QualityCheck> {
        let cfg = &self.config;
        let check = |code, passed, measured, threshold| QualityCheck {
            code,
            passed,
            measured,
            threshold,
            warning: None,
            detail: None,
        };

        let (short, long) = (width.min(height), width.max(height));
        let short_ratio = f64::from(short) / f64::from(cfg.min_short_side.max(1));
        let long_ratio = f64::from(long) / f64::from(cfg.min_long_side.max(1));
        let (measured, threshold) = if short_ratio <= long_ratio {
            (short, cfg.min_short_side)
        } else {
            (long, cfg.min_long_side)
        };
        let mut resolution = check(
            QualityCode::Resolution,
            short >= cfg.min_short_side && long >= cfg.min_long_side,
            f64::from(measured),
            f64::from(threshold),
        );
        if resolution.passed
            && (short < cfg.recommended_short_side || long < cfg.recommended_long_side)
        {
            resolution.warning = Some(format!(
                "{width}x{height} px is below the recommended {}x{} px",
                cfg.recommended_short_side, cfg.recommended_long_side
            ));
        }

        let gain = (cfg.blur_reference_white / region.p90.max(1.0)).clamp(1.0, 4.0);
        let sharpness = region.laplacian_var * gain * gain;
        let blur = check(
            QualityCode::Blur,
            sharpness >= cfg.blur_min_laplacian_var,
            sharpness,
            cfg.blur_min_laplacian_var,
        );

        let (max_dark, max_bright, region_name) = if doc.located {
            (
                cfg.exposure_max_dark_share,
                cfg.exposure_max_bright_share,
                "document",
            )
        } else {
            (
                cfg.exposure_frame_max_dark_share,
                cfg.exposure_frame_max_bright_share,
                "frame",
            )
        };
        let dark = region.dark_share > max_dark;
        let bright = region.bright_share > max_bright;
        // Report the side nearer to failing, relative to its own threshold.
        let dark_side =
            region.dark_share / max_dark.max(1e-9) >= region.bright_share / max_bright.max(1e-9);
        let (measured, threshold) = if dark_side {
            (region.dark_share, max_dark)
        } else {
            (region.bright_share, max_bright)
        };
        let mut exposure = check(QualityCode::Exposure, !dark && !bright, measured, threshold);
        exposure.detail = Some(if dark_side {
            format!(
                "share of the {region_name} darker than luma {} (too dark)",
                cfg.exposure_dark_level
            )
        } else {
            format!(
                "share of the {region_name} at or above luma {} (blown out)",
                cfg.glare_level
            )
        });

        let glare_check = check(
            QualityCode::Glare,
            glare <= cfg.glare_max_fraction,
            glare,
            cfg.glare_max_fraction,
        );

        // A sharp, well-exposed frame with no document outline in it does not show the four
        // corners seed 000 asks for (a card filling the frame, a crop of one, no card at all):
        // it fails with the worst contact, 1. A blurred or badly exposed one already fails for
        // that; its outline is not assessed.
        let legible = blur.passed && !dark && !bright;
        let mut cutoff = check(
            QualityCode::Cutoff,
            if doc.located {
                doc.contact <= cfg.cutoff_max_contact
            } else {
                !legible
            },
            match (doc.located, legible) {
                (true, _) => doc.contact,
                (false, true) => 1.0,
                (false, false) => 0.0,
            },
            cfg.cutoff_max_contact,
        );
        if !doc.located {
            cutoff.detail = Some(if legible {
                "no document outline found: all four corners must be in view".into()
            } else {
                "document outline not found: cutoff not assessed".into()
            });
        }

        let monochrome = check(
            QualityCode::Monochrome,
            colourfulness >= cfg.monochrome_min_colourfulness,
            colourfulness,
            cfg.monochrome_min_colourfulness,
        );
        vec![resolution, blur, glare_check, exposure, cutoff, monochrome]
    }

    /// Share of the document covered by saturated 4-connected blobs of meaningful size.
    fn glare_fraction(
        &mut self,
        (w, h): (usize, usize),
        doc: &Document,
        c: usize,
        doc_pixels: u64,
    ) -> f64 {
        let level = f32::from(self.config.glare_level);
        self.blobs.start();
        for y in 0..h {
            document_spans(doc, c, w, y, &mut self.spans);
            self.blobs
                .add_row(&self.working[y * w..(y + 1) * w], &self.spans, level);
        }
        let min_blob = (self.config.glare_min_blob_fraction * doc_pixels as f64).max(1.0);
        self.blobs.covered(min_blob) as f64 / doc_pixels.max(1) as f64
    }
}

/// The spans `[start, end)` of working-scale row `y` that lie on the document (the coarse mask
/// is `c` times smaller; its last row and column extend to the working image's edges).
fn document_spans(doc: &Document, c: usize, w: usize, y: usize, spans: &mut Vec<(usize, usize)>) {
    let (cw, ch) = doc.size;
    spans.clear();
    if cw == 0 || ch == 0 {
        return;
    }
    let mrow = &doc.mask[(y / c).min(ch - 1) * cw..][..cw];
    for (cx, &m) in mrow.iter().enumerate() {
        if m == 0 {
            continue;
        }
        let x0 = (cx * c).min(w);
        let x1 = if cx + 1 == cw {
            w
        } else {
            ((cx + 1) * c).min(w)
        };
        match spans.last_mut() {
            Some(last) if last.1 == x0 => last.1 = x1,
            _ if x0 < x1 => spans.push((x0, x1)),
            _ => {}
        }
    }
}

/// Whether decoded RGB rows agree with the luma plane (to within rounding on nearly all
/// pixels): proof that the prefix decode saw enough of the coded data for these rows.
fn rows_match(rgb: &[u8], plane: &[u8], w: usize, rows: usize) -> bool {
    let n = w * rows;
    if w == 0 || rgb.len() < n * 3 || plane.len() < n {
        return false;
    }
    // Every second row: a shortfall of coded data spoils whole rows of blocks.
    let (mut off, mut seen) = (0, 0);
    for (src, luma) in rgb[..n * 3]
        .chunks_exact(w * 3)
        .zip(plane[..n].chunks_exact(w))
        .step_by(2)
    {
        off += src
            .chunks_exact(3)
            .zip(luma)
            .filter(|&(p, &y)| crate::analyze::luma(p[0], p[1], p[2]).abs_diff(y) > 4)
            .count();
        seen += w;
    }
    off * 100 <= seen
}

/// Laplacian of the working-scale luma over the document region, and its brightness
/// histogram taken on the coarse image (nine times fewer pixels, same shares to within the
/// averaging of block edges). Each working row is visited as spans of document pixels.
fn region_stats(
    img: &[f32],
    (w, h): (usize, usize),
    coarse: &[f32],
    doc: &Document,
    c: usize,
    (dark_level, glare_level): (u8, u8),
) -> RegionStats {
    let saturated = f32::from(glare_level);
    let (mut sum, mut sq, mut n_lap, mut pixels) = (0f64, 0f64, 0u64, 0u64);
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for y in 0..h {
        if y % c == 0 || y / c >= doc.size.1 {
            document_spans(doc, c, w, y, &mut spans);
        }
        for &(x0, x1) in &spans {
            pixels += (x1 - x0) as u64;
            if y == 0 || y + 1 == h {
                continue;
            }
            let (a, b) = (x0.max(1), x1.min(w - 1));
            if a >= b {
                continue;
            }
            let (s, q, n) = laplacian_span(
                &img[(y - 1) * w..y * w],
                &img[y * w..(y + 1) * w],
                &img[(y + 1) * w..(y + 2) * w],
                (a, b),
                saturated,
            );
            sum += s;
            sq += q;
            n_lap += n;
        }
    }
    let mut hist = [0u64; 256];
    for (&v, &m) in coarse.iter().zip(&doc.mask) {
        if m != 0 {
            hist[v.clamp(0.0, 255.0) as usize] += 1;
        }
    }
    let counted: u64 = hist.iter().sum();
    let percentile = |p: f64| -> f64 {
        let target = (p * counted as f64).ceil().max(1.0) as u64;
        let mut acc = 0;
        for (i, &c) in hist.iter().enumerate() {
            acc += c;
            if acc >= target {
                return i as f64;
            }
        }
        255.0
    };
    let laplacian_var = if n_lap > 0 {
        let m = sum / n_lap as f64;
        (sq / n_lap as f64 - m * m).max(0.0)
    } else {
        0.0
    };
    let bright: u64 = hist[usize::from(glare_level)..].iter().sum();
    let dark: u64 = hist[..usize::from(dark_level)].iter().sum();
    let share = |n: u64| n as f64 / counted.max(1) as f64;
    RegionStats {
        pixels,
        laplacian_var,
        p90: percentile(0.9),
        dark_share: share(dark),
        bright_share: share(bright),
        // Blobs are looked for at the working scale whenever any coarse block comes close.
        saturated: hist[usize::from(glare_level.saturating_sub(10))..]
            .iter()
            .sum(),
    }
}

/// Sum, sum of squares and count of the Laplacian over `[a, b)` of one row, leaving out
/// blown-out pixels: they carry no detail and would dilute the sharpness of what is visible
/// (glare and exposure report them). Eight independent lanes let the compiler vectorise the
/// float sums.
fn laplacian_span(
    up: &[f32],
    row: &[f32],
    dn: &[f32],
    (a, b): (usize, usize),
    saturated: f32,
) -> (f64, f64, u64) {
    let n = b - a;
    let (u, d, l, r, m) = (
        &up[a..b],
        &dn[a..b],
        &row[a - 1..b - 1],
        &row[a + 1..b + 1],
        &row[a..b],
    );
    let (mut s, mut q, mut k) = ([0f32; 8], [0f32; 8], [0u32; 8]);
    let lanes = n / 8 * 8;
    for i in (0..lanes).step_by(8) {
        let (u, d, l, r, m) = (
            &u[i..i + 8],
            &d[i..i + 8],
            &l[i..i + 8],
            &r[i..i + 8],
            &m[i..i + 8],
        );
        for j in 0..8 {
            let keep = m[j] < saturated;
            let v = if keep {
                u[j] + d[j] + l[j] + r[j] - 4.0 * m[j]
            } else {
                0.0
            };
            s[j] += v;
            q[j] += v * v;
            k[j] += u32::from(keep);
        }
    }
    let (mut sum, mut sq, mut count) = (0f64, 0f64, 0u64);
    for j in 0..8 {
        sum += f64::from(s[j]);
        sq += f64::from(q[j]);
        count += u64::from(k[j]);
    }
    for i in lanes..n {
        if m[i] < saturated {
            let v = u[i] + d[i] + l[i] + r[i] - 4.0 * m[i];
            sum += f64::from(v);
            sq += f64::from(v * v);
            count += 1;
        }
    }
    (sum, sq, count)
}

#[cfg(test)]
mod debug_dump {
    use super::*;

    /// `KYC_DUMP=photo.jpg cargo test -p kyc-docs --lib dump -- --ignored --nocapture` prints
    /// the metrics and writes the coarse image and the document mask (PGM) to the temp dir.
    #[test]
    #[ignore = "debugging aid"]
    fn dump() {
        let path = std::env::var("KYC_DUMP").unwrap();
        let bytes = std::fs::read(path).unwrap();
        let mut checker = Checker::new(QualityConfig::default());
        let a = checker.assess(&bytes).unwrap();
        eprintln!("{:?}\n{:?}", a.metrics, a.checks);
        let (ww, wh) = (
            a.metrics.working_width as usize,
            a.metrics.working_height as usize,
        );
        let c = ((ww.max(wh) + 150) / 300).max(1);
        let size = (ww / c, wh / c);
        let bounds = Plausible {
            min_area: 0.0,
            max_area: 1.0,
            min_shape: 0.0,
        };
        let doc = checker.segmenter.locate(&checker.coarse, size, bounds);
        eprintln!(
            "located {} area {} contact {} solidity {} rect {}",
            doc.located, doc.area_fraction, doc.contact, doc.solidity, doc.rectangularity
        );
        let pgm = |name: &str, px: Vec<u8>| {
            let mut f = format!("P5\n{} {}\n255\n", size.0, size.1).into_bytes();
            f.extend(px);
            std::fs::write(std::env::temp_dir().join(name), f).unwrap();
        };
        pgm(
            "kyc_coarse.pgm",
            checker.coarse.iter().map(|&v| v as u8).collect(),
        );
        pgm("kyc_mask.pgm", doc.mask.iter().map(|&v| v * 255).collect());
    }
}
