//! Colourfulness by horizontal bands, for the monochrome check.
//!
//! The frame is split into [`BANDS`] horizontal bands and each band's colourfulness (Hasler and
//! Süsstrunk: spread plus 0.3 x mean of the opponent channels rg = R - G and
//! yb = (R + G) / 2 - B) is measured. A grey scan is 0 in every band; a colour photo has colour
//! somewhere. The measured value is the first band's colourfulness when that already reaches
//! the threshold (which proves a colour photo, and lets a JPEG be checked from a decode of its
//! top band only), otherwise the highest band's.
//!
//! Two corrections keep badly exposed colour photos from looking grey: blown-out pixels (any
//! channel at or above [`CLIPPED`]) carry no colour and are left out, and a dark band's value is
//! scaled up as if its mean luma were [`REFERENCE_LUMA`] (at most [`MAX_GAIN`] times), since
//! chroma shrinks with exposure just as luma does. Neither can lift a grey image above 0.

/// Number of horizontal bands.
pub(crate) const BANDS: usize = 64;
/// Pixels with a channel at or above this are clipped and left out.
const CLIPPED: u8 = 250;
/// Dark bands are measured as if their mean luma were this...
const REFERENCE_LUMA: f64 = 128.0;
/// ...but amplified at most this much.
const MAX_GAIN: f64 = 8.0;

#[derive(Clone, Copy, Debug, Default)]
struct Sums {
    n: u64,
    rg: i64,
    rg2: u64,
    yb: i64,
    yb2: u64,
    /// Sum of (R + 2G + B) / 4, a cheap luma for the exposure correction.
    luma: u64,
}

impl Sums {
    fn colourfulness(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let n = self.n as f64;
        let rg_mean = self.rg as f64 / n;
        let rg_var = (self.rg2 as f64 / n - rg_mean * rg_mean).max(0.0);
        // yb is accumulated doubled (R + G - 2B) to stay in integers.
        let yb_mean = self.yb as f64 / n / 2.0;
        let yb_var = (self.yb2 as f64 / n / 4.0 - yb_mean * yb_mean).max(0.0);
        let raw = (rg_var + yb_var).sqrt() + 0.3 * (rg_mean * rg_mean + yb_mean * yb_mean).sqrt();
        let mean_luma = self.luma as f64 / n;
        raw * (REFERENCE_LUMA / mean_luma.max(1.0)).clamp(1.0, MAX_GAIN)
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct BandColour {
    band_rows: usize,
    bands: Vec<Sums>,
}

impl BandColour {
    /// Starts a frame of `height` rows.
    pub(crate) fn reset(&mut self, height: usize) {
        self.band_rows = height.div_ceil(BANDS).max(1);
        self.bands.clear();
        self.bands.resize(BANDS, Sums::default());
    }

    /// Rows in each band (the last band may be shorter).
    pub(crate) fn band_rows(&self) -> usize {
        self.band_rows
    }

    /// Adds row `y` of interleaved pixels with `C` channels (R, G, B first). Every second row
    /// is sampled: plenty for a band's statistics.
    pub(crate) fn add_row<const C: usize>(&mut self, y: usize, row: &[u8]) {
        if y % 2 == 1 || self.band_rows == 0 {
            return;
        }
        let Some(band) = self.bands.get_mut(y / self.band_rows) else {
            return;
        };
        for chunk in row.chunks(C * 2048) {
            // i32 sums over 2048 pixels cannot overflow (2048 * 1020 < 2^31).
            let (mut a, mut b, mut l, mut n) = (0i32, 0i32, 0u32, 0u32);
            let (mut qa, mut qb) = (0u64, 0u64);
            for p in chunk.chunks_exact(C) {
                let (r, g, bl) = (p[0], p[1], p[2]);
                let keep = i32::from(r.max(g).max(bl) < CLIPPED);
                let (r, g, bl) = (i32::from(r), i32::from(g), i32::from(bl));
                let rg = (r - g) * keep;
                let yb = (r + g - 2 * bl) * keep;
                a += rg;
                b += yb;
                qa += (rg * rg) as u64;
                qb += (yb * yb) as u64;
                l += ((r + 2 * g + bl) * keep) as u32 / 4;
                n += keep as u32;
            }
            band.rg += i64::from(a);
            band.yb += i64::from(b);
            band.rg2 += qa;
            band.yb2 += qb;
            band.luma += u64::from(l);
            band.n += u64::from(n);
        }
    }

    /// Colourfulness of the first band.
    pub(crate) fn first(&self) -> f64 {
        self.bands.first().map_or(0.0, Sums::colourfulness)
    }

    /// The measured value: the first band's colourfulness if it reaches `threshold`, otherwise
    /// the highest band's.
    pub(crate) fn measure(&self, threshold: f64) -> f64 {
        let first = self.first();
        if first >= threshold {
            return first;
        }
        self.bands
            .iter()
            .map(Sums::colourfulness)
            .fold(first, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_is_zero_colour_is_not() {
        let mut c = BandColour::default();
        c.reset(32);
        for y in 0..32 {
            c.add_row::<3>(y, &[10, 10, 10, 200, 200, 200]);
        }
        assert_eq!(c.measure(3.0), 0.0);
        // Colour only in the bottom band: the first band is grey, the maximum finds it.
        let mut c = BandColour::default();
        c.reset(32);
        for y in 0..32 {
            let px: [u8; 6] = if y >= 30 {
                [230, 130, 80, 130, 130, 130]
            } else {
                [9; 6]
            };
            c.add_row::<3>(y, &px);
        }
        assert_eq!(c.first(), 0.0);
        let expected = 5000f64.sqrt() * 1.3; // rg, yb = {100, 0}: spread and mean both 50*sqrt(2)
        assert!(
            (c.measure(3.0) - expected).abs() < 1e-9,
            "{}",
            c.measure(3.0)
        );
    }

    #[test]
    fn dark_colour_is_still_colour_and_clipped_pixels_are_ignored() {
        let mut bright = BandColour::default();
        bright.reset(2);
        bright.add_row::<3>(0, &[200, 100, 50, 100, 100, 100]);
        let mut dark = BandColour::default();
        dark.reset(2);
        dark.add_row::<3>(0, &[40, 20, 10, 20, 20, 20]);
        // A fifth of the exposure keeps about the same colourfulness.
        assert!((dark.first() - bright.first()).abs() < 0.2 * bright.first());
        let mut clipped = BandColour::default();
        clipped.reset(2);
        clipped.add_row::<3>(0, &[255, 250, 255, 200, 100, 50, 100, 100, 100]);
        // (the clipped pixel is left out of the mean luma too)
        assert!((clipped.first() - bright.first()).abs() < 1e-9);
        let mut white = BandColour::default();
        white.reset(2);
        white.add_row::<3>(0, &[255, 255, 255, 255, 251, 255]);
        assert_eq!(white.first(), 0.0);
    }

    #[test]
    fn rgba_rows_use_the_colour_channels() {
        let mut c = BandColour::default();
        c.reset(2);
        c.add_row::<4>(0, &[230, 130, 80, 0, 130, 130, 130, 255]);
        assert!((c.first() - 5000f64.sqrt() * 1.3).abs() < 1e-9);
    }
}
