//! One pass over the full-resolution luma plane: the reference Laplacian variance and
//! saturation share (the OpenCV peer's definitions, for comparison) and the box downscale
//! towards the working scale.

/// OpenCV's fixed-point BT.601 luma: `(4899 R + 9617 G + 1868 B + 8192) >> 14`.
#[inline]
pub(crate) fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((4899 * u32::from(r) + 9617 * u32::from(g) + 1868 * u32::from(b) + 8192) >> 14) as u8
}

/// Luma of a row of interleaved pixels with `C` channels (R, G, B first; alpha ignored).
pub(crate) fn luma_row<const C: usize>(src: &[u8], dst: &mut [u8]) {
    const { assert!(C >= 3, "luma_row needs R, G and B") };
    for (g, p) in dst.iter_mut().zip(src.chunks_exact(C)) {
        *g = luma(p[0], p[1], p[2]);
    }
}

/// Saturation level of the reference glare share (the peer's `gray >= 250`).
pub(crate) const REFERENCE_GLARE_LEVEL: u8 = 250;

/// Whole-frame figures at full resolution.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct FrameStats {
    pub laplacian_var: f64,
    pub glare_fraction: f64,
}

/// Box-downscaled luma: each value is the mean of a `k` x `k` block (the remainder rows and
/// columns are dropped).
#[derive(Debug, Default)]
pub(crate) struct Boxed {
    pub size: (usize, usize),
    pub data: Vec<f32>,
    /// Column sums of the rows of the current block row (u16 holds 257 rows of 255).
    columns: Vec<u16>,
    wide: Vec<u32>,
    lap: Vec<i16>,
}

/// Rows are processed in pieces of this many pixels, so i32 sums of squared Laplacians cannot
/// overflow (2048 * 1020^2 < 2^31).
const PIECE: usize = 2048;

/// Box-downscales a `w` x `h` luma plane by `k` into `boxed` and, with `reference`, measures
/// the full-resolution reference figures on the way.
pub(crate) fn analyze_plane(
    gray: &[u8],
    (w, h): (usize, usize),
    k: usize,
    reference: bool,
    boxed: &mut Boxed,
) -> Option<FrameStats> {
    let k = k.max(1);
    let (bw, bh) = (w / k, h / k);
    boxed.size = (bw, bh);
    boxed.data.clear();
    boxed.data.reserve(bw * bh);
    boxed.columns.clear();
    boxed.wide.clear();
    let narrow = k <= 257;
    if narrow {
        boxed.columns.resize(bw * k, 0);
    } else {
        boxed.wide.resize(bw * k, 0);
    }
    if w == 0 || h == 0 || gray.len() < w * h {
        return reference.then(FrameStats::default);
    }
    let row = |y: usize| &gray[y * w..(y + 1) * w];
    let (mut sum, mut sq, mut glare) = (0i64, 0u64, 0u64);
    let norm = 1.0 / (k * k) as f32;
    for y in 0..h {
        // Border: reflect-101 (row -1 is row 1), or the row itself for a one-row image.
        let up = if y > 0 { y - 1 } else { 1.min(h - 1) };
        let dn = if y + 1 < h {
            y + 1
        } else {
            y.saturating_sub(1)
        };
        let c = row(y);
        if reference {
            let (s, q) = laplacian_row(row(up), c, row(dn), &mut boxed.lap);
            sum += s;
            sq += q;
            glare += count_at_least(c, REFERENCE_GLARE_LEVEL);
        }
        if y >= bh * k || bw == 0 {
            continue;
        }
        if k == 1 {
            boxed.data.extend(c.iter().map(|&v| f32::from(v)));
            continue;
        }
        // Vertical sums first (whole rows, vectorised), horizontal once per block row.
        // The first row of a block row overwrites the sums, so they never need clearing.
        let first = y % k == 0;
        if narrow {
            if first {
                for (a, &v) in boxed.columns.iter_mut().zip(c) {
                    *a = u16::from(v);
                }
            } else {
                for (a, &v) in boxed.columns.iter_mut().zip(c) {
                    *a += u16::from(v);
                }
            }
        } else if first {
            for (a, &v) in boxed.wide.iter_mut().zip(c) {
                *a = u32::from(v);
            }
        } else {
            for (a, &v) in boxed.wide.iter_mut().zip(c) {
                *a += u32::from(v);
            }
        }
        if y % k == k - 1 {
            if narrow {
                horizontal_sums(&boxed.columns, k, norm, &mut boxed.data);
            } else {
                let sums = boxed
                    .wide
                    .chunks_exact(k)
                    .map(|p| p.iter().sum::<u32>() as f32 * norm);
                boxed.data.extend(sums);
            }
        }
    }
    let n = (w * h) as f64;
    let mean = sum as f64 / n;
    reference.then(|| FrameStats {
        laplacian_var: (sq as f64 / n - mean * mean).max(0.0),
        glare_fraction: glare as f64 / n,
    })
}

/// Block sums of `k` adjacent column sums, scaled by `norm`. The common factors have their
/// own loops, which the compiler vectorises; a generic inner loop would not be.
fn horizontal_sums(columns: &[u16], k: usize, norm: f32, out: &mut Vec<f32>) {
    // Extending (not resizing and overwriting) avoids zero-filling the output first.
    match k {
        // k x 255 per column and k columns: u16 holds 2 x 2 and 3 x 3 blocks exactly.
        2 => out.extend(
            columns
                .chunks_exact(2)
                .map(|p| f32::from(p[0] + p[1]) * norm),
        ),
        3 => out.extend(
            columns
                .chunks_exact(3)
                .map(|p| f32::from(p[0] + p[1] + p[2]) * norm),
        ),
        4 => out.extend(columns.chunks_exact(4).map(|p| {
            (u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2]) + u32::from(p[3])) as f32 * norm
        })),
        _ => out.extend(
            columns
                .chunks_exact(k)
                .map(|p| p.iter().map(|&v| u32::from(v)).sum::<u32>() as f32 * norm),
        ),
    }
}

/// Number of values at or above `level`, counted in u8 lanes per 255 values.
fn count_at_least(values: &[u8], level: u8) -> u64 {
    values
        .chunks(255)
        .map(|c| u64::from(c.iter().fold(0u8, |a, &v| a + u8::from(v >= level))))
        .sum()
}

/// Sum and sum of squares of the 4-neighbour Laplacian along one row (border: reflect-101).
/// The interior is computed into an i16 buffer first (|v| <= 1020), which vectorises well.
fn laplacian_row(up: &[u8], c: &[u8], dn: &[u8], buf: &mut Vec<i16>) -> (i64, u64) {
    let w = c.len();
    let lap = |u: u8, d: u8, l: u8, r: u8, m: u8| -> i16 {
        i16::from(u) + i16::from(d) + i16::from(l) + i16::from(r) - 4 * i16::from(m)
    };
    let (mut sum, mut sq) = (0i64, 0u64);
    let mut add = |v: i16| {
        sum += i64::from(v);
        sq += u64::from(v.unsigned_abs()).pow(2);
    };
    match w {
        0 => return (0, 0),
        1 => add(lap(up[0], dn[0], c[0], c[0], c[0])),
        _ => {
            add(lap(up[0], dn[0], c[1], c[1], c[0]));
            add(lap(up[w - 1], dn[w - 1], c[w - 2], c[w - 2], c[w - 1]));
        }
    }
    if w < 3 {
        return (sum, sq);
    }
    let n = w - 2;
    buf.clear();
    buf.resize(n, 0);
    let (u, d, l, r, m) = (&up[1..w - 1], &dn[1..w - 1], &c[..n], &c[2..], &c[1..w - 1]);
    for (((((o, &u), &d), &l), &r), &m) in buf.iter_mut().zip(u).zip(d).zip(l).zip(r).zip(m) {
        *o = lap(u, d, l, r, m);
    }
    for piece in buf.chunks(PIECE) {
        let s: i32 = piece.iter().map(|&v| i32::from(v)).sum();
        let q: i32 = piece.iter().map(|&v| i32::from(v) * i32::from(v)).sum();
        sum += i64::from(s);
        sq += u64::from(q.unsigned_abs());
    }
    (sum, sq)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straightforward reference with explicit reflect-101 indexing.
    fn reference(gray: &[u8], w: usize, h: usize) -> (f64, f64) {
        let refl = |i: isize, n: usize| -> usize {
            let n = n as isize;
            if n == 1 {
                return 0;
            }
            let j = if i < 0 {
                -i
            } else if i >= n {
                2 * n - 2 - i
            } else {
                i
            };
            j as usize
        };
        let at = |x: isize, y: isize| i64::from(gray[refl(y, h) * w + refl(x, w)]);
        let (mut s, mut q, mut g) = (0i64, 0i64, 0u64);
        for y in 0..h as isize {
            for x in 0..w as isize {
                let v = at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4 * at(x, y);
                s += v;
                q += v * v;
                g += u64::from(at(x, y) >= 250);
            }
        }
        let n = (w * h) as f64;
        let m = s as f64 / n;
        (q as f64 / n - m * m, g as f64 / n)
    }

    #[test]
    fn laplacian_matches_reference_on_all_small_sizes() {
        let mut seed = 12345u32;
        for (w, h) in [
            (1, 1),
            (1, 5),
            (5, 1),
            (2, 2),
            (3, 7),
            (17, 9),
            (64, 33),
            (5000, 3),
        ] {
            let gray: Vec<u8> = (0..w * h)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) as u8
                })
                .collect();
            let stats = analyze_plane(&gray, (w, h), 1, true, &mut Boxed::default()).unwrap();
            let (var, glare) = reference(&gray, w, h);
            assert!(
                (stats.laplacian_var - var).abs() <= 1e-9 * var.max(1.0),
                "{w}x{h}"
            );
            assert!((stats.glare_fraction - glare).abs() < 1e-12, "{w}x{h}");
        }
    }

    #[test]
    fn box_downscale_every_factor() {
        let (w, h) = (37, 23);
        let gray: Vec<u8> = (0..w * h).map(|i| (i * 7 % 256) as u8).collect();
        for k in [1, 2, 3, 5, 16, 20] {
            let mut b = Boxed::default();
            assert_eq!(analyze_plane(&gray, (w, h), k, false, &mut b), None);
            assert_eq!(b.size, (w / k, h / k));
            assert_eq!(b.data.len(), (w / k) * (h / k));
            if let Some(&first) = b.data.first() {
                let gray = &gray;
                let expected: u32 = (0..k)
                    .flat_map(|y| (0..k).map(move |x| u32::from(gray[y * w + x])))
                    .sum();
                assert!(
                    (first - expected as f32 / (k * k) as f32).abs() < 1e-3,
                    "k={k}"
                );
            }
        }
    }

    #[test]
    fn luma_is_opencv_fixed_point() {
        assert_eq!(luma(255, 255, 255), 255);
        assert_eq!(luma(0, 0, 0), 0);
        assert_eq!(luma(255, 0, 0), 76);
        assert_eq!(luma(0, 255, 0), 150);
        assert_eq!(luma(0, 0, 255), 29);
        let mut out = [0u8; 2];
        luma_row::<4>(&[255, 0, 0, 9, 0, 255, 0, 9], &mut out);
        assert_eq!(out, [76, 150]);
    }
}
