//! Colourfulness by horizontal bands, for the monochrome check.
//!
//! The frame is split into [`BANDS`] horizontal bands and each band's colourfulness (Hasler and
//! Süsstrunk: spread plus 0.3 x mean of the opponent channels rg = R - G and
//! yb = (R + G) / 2 - B) is measured. A grey scan is 0 in every band; a colour photo has colour
//! somewhere. The measured value is the first band's colourfulness when that already reaches
//! the threshold (which proves a colour photo, and lets a JPEG be checked from a decode of its
//! top band only), otherwise the highest band's.

/// Number of horizontal bands.
pub(crate) const BANDS: usize = 16;

#[derive(Clone, Copy, Debug, Default)]
struct Sums {
    n: u64,
    rg: i64,
    rg2: u64,
    yb: i64,
    yb2: u64,
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
        (rg_var + yb_var).sqrt() + 0.3 * (rg_mean * rg_mean + yb_mean * yb_mean).sqrt()
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct BandColour {
    band_rows: usize,
    bands: [Sums; BANDS],
}

impl BandColour {
    /// Starts a frame of `height` rows.
    pub(crate) fn reset(&mut self, height: usize) {
        self.band_rows = height.div_ceil(BANDS).max(1);
        self.bands = [Sums::default(); BANDS];
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
            // i32 sums over 2048 pixels cannot overflow (2048 * 510 < 2^31).
            let (mut a, mut b) = (0i32, 0i32);
            let (mut qa, mut qb) = (0u64, 0u64);
            for p in chunk.chunks_exact(C) {
                let (r, g, bl) = (i32::from(p[0]), i32::from(p[1]), i32::from(p[2]));
                let rg = r - g;
                let yb = r + g - 2 * bl;
                a += rg;
                b += yb;
                qa += (rg * rg) as u64;
                qb += (yb * yb) as u64;
            }
            band.rg += i64::from(a);
            band.yb += i64::from(b);
            band.rg2 += qa;
            band.yb2 += qb;
            band.n += (chunk.len() / C) as u64;
        }
    }

    /// Colourfulness of the first band.
    pub(crate) fn first(&self) -> f64 {
        self.bands[0].colourfulness()
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
                [200, 100, 50, 100, 100, 100]
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
    fn rgba_rows_use_the_colour_channels() {
        let mut c = BandColour::default();
        c.reset(2);
        c.add_row::<4>(0, &[200, 100, 50, 0, 100, 100, 100, 255]);
        assert!((c.first() - 5000f64.sqrt() * 1.3).abs() < 1e-9);
    }
}
