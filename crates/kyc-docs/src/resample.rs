//! Area-average (box) resampling: every output pixel is the mean of the source area it covers,
//! the same model as OpenCV's INTER_AREA. Used to bring every image to the fixed working scale.

/// For each output index, the first source index and the normalised weights of the sources it
/// covers (weights of one output sum to 1).
#[derive(Debug, Default)]
struct Taps {
    start: Vec<usize>,
    offset: Vec<usize>,
    weight: Vec<f32>,
}

impl Taps {
    fn build(&mut self, src: usize, dst: usize) {
        self.start.clear();
        self.offset.clear();
        self.weight.clear();
        let scale = src as f64 / dst as f64;
        for o in 0..dst {
            let a = o as f64 * scale;
            let b = ((o + 1) as f64 * scale).min(src as f64);
            let first = a.floor() as usize;
            let last = (b.ceil() as usize).clamp(first + 1, src);
            self.start.push(first);
            self.offset.push(self.weight.len());
            for i in first..last {
                let overlap = (b.min(i as f64 + 1.0) - a.max(i as f64)).max(0.0);
                self.weight.push((overlap / scale) as f32);
            }
        }
        self.offset.push(self.weight.len());
    }

    fn get(&self, o: usize) -> (usize, &[f32]) {
        (
            self.start[o],
            &self.weight[self.offset[o]..self.offset[o + 1]],
        )
    }
}

/// Reusable scratch for [`Resampler::resize`].
#[derive(Debug, Default)]
pub(crate) struct Resampler {
    horizontal: Taps,
    vertical: Taps,
    tmp: Vec<f32>,
}

impl Resampler {
    /// Resizes `src` (`sw` x `sh`, row-major) to `dw` x `dh` into `dst`. Requires
    /// `dw <= sw`, `dh <= sh` and non-zero sizes (downscaling only).
    pub(crate) fn resize(
        &mut self,
        src: &[f32],
        (sw, sh): (usize, usize),
        (dw, dh): (usize, usize),
        dst: &mut Vec<f32>,
    ) {
        dst.clear();
        if sw == 0 || sh == 0 || dw == 0 || dh == 0 || src.len() < sw * sh {
            return;
        }
        self.horizontal.build(sw, dw);
        self.vertical.build(sh, dh);
        // Horizontal pass: sh rows of dw.
        self.tmp.clear();
        self.tmp.resize(dw * sh, 0.0);
        for (src_row, out_row) in src.chunks_exact(sw).zip(self.tmp.chunks_exact_mut(dw)) {
            for (o, out) in out_row.iter_mut().enumerate() {
                let (first, weights) = self.horizontal.get(o);
                *out = weights
                    .iter()
                    .zip(&src_row[first..])
                    .map(|(w, v)| w * v)
                    .sum();
            }
        }
        // Vertical pass: whole rows at a time, which vectorises.
        dst.resize(dw * dh, 0.0);
        for (o, out_row) in dst.chunks_exact_mut(dw).enumerate() {
            let (first, weights) = self.vertical.get(o);
            for (j, &w) in weights.iter().enumerate() {
                let row = &self.tmp[(first + j) * dw..(first + j + 1) * dw];
                for (out, v) in out_row.iter_mut().zip(row) {
                    *out += w * v;
                }
            }
        }
    }
}

/// Integer box downscale by `k` (floor of the size; the remainder rows/columns are dropped).
pub(crate) fn box_down(
    src: &[f32],
    (sw, sh): (usize, usize),
    k: usize,
    dst: &mut Vec<f32>,
) -> (usize, usize) {
    let k = k.max(1);
    let (dw, dh) = (sw / k, sh / k);
    dst.clear();
    if dw == 0 || dh == 0 || src.len() < sw * sh {
        return (0, 0);
    }
    dst.reserve(dw * dh);
    let norm = 1.0 / (k * k) as f32;
    let mut column = vec![0f32; dw * k];
    for oy in 0..dh {
        // Vertical sums over whole rows first (vectorised), then one horizontal pass; the
        // first row of each block overwrites, so nothing needs clearing.
        for dy in 0..k {
            let row = &src[(oy * k + dy) * sw..][..dw * k];
            if dy == 0 {
                column.copy_from_slice(row);
            } else {
                for (c, &v) in column.iter_mut().zip(row) {
                    *c += v;
                }
            }
        }
        match k {
            // Fixed-size cells vectorise; a generic inner loop would not.
            2 => dst.extend(column.chunks_exact(2).map(|c| (c[0] + c[1]) * norm)),
            3 => dst.extend(column.chunks_exact(3).map(|c| (c[0] + c[1] + c[2]) * norm)),
            _ => dst.extend(column.chunks_exact(k).map(|c| c.iter().sum::<f32>() * norm)),
        }
    }
    (dw, dh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_average_preserves_mean_and_constants() {
        let (sw, sh) = (7, 5);
        let src: Vec<f32> = (0..sw * sh).map(|i| (i % 11) as f32).collect();
        let mut r = Resampler::default();
        let mut dst = Vec::new();
        r.resize(&src, (sw, sh), (3, 2), &mut dst);
        assert_eq!(dst.len(), 6);
        let mean_src = src.iter().sum::<f32>() / src.len() as f32;
        let mean_dst = dst.iter().sum::<f32>() / dst.len() as f32;
        assert!(
            (mean_src - mean_dst).abs() < 1e-3,
            "{mean_src} vs {mean_dst}"
        );
        r.resize(&[42.0; 35], (sw, sh), (4, 3), &mut dst);
        assert!(dst.iter().all(|v| (v - 42.0).abs() < 1e-4));
    }

    #[test]
    fn exact_factor_equals_box() {
        let src: Vec<f32> = (0..36).map(|i| i as f32).collect();
        let mut a = Vec::new();
        Resampler::default().resize(&src, (6, 6), (3, 3), &mut a);
        let mut b = Vec::new();
        assert_eq!(box_down(&src, (6, 6), 2, &mut b), (3, 3));
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-4);
        }
        assert_eq!(b[0], (0.0 + 1.0 + 6.0 + 7.0) / 4.0);
    }
}
