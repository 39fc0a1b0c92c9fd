//! Synthetic ID photos and a dependency-free PNG writer, for tests (here and in the server's
//! upload tests), examples and calibration. Deterministic: the same [`Scene`] gives the same
//! pixels everywhere.
//!
//! A scene is a phone-photo-like frame: an ID-1 card (85.6 x 54 mm) with a header band, a
//! portrait, text lines of glyph-like strokes, fine guilloche lines and two MRZ lines, lying
//! rotated on a textured table, then optics (blur), lighting (a glare spot, exposure) and
//! sensor noise, optionally turned into a grey scan or a thresholded photocopy.

/// Everything that defines a synthetic photo.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    pub width: u32,
    pub height: u32,
    pub seed: u64,
    /// Card centre as a fraction of the frame.
    pub centre: (f64, f64),
    /// Card width as a fraction of the frame's width.
    pub card_width: f64,
    /// Card rotation, degrees.
    pub angle: f64,
    /// Table base colour (RGB); the texture varies around it.
    pub table: [f32; 3],
    /// Card base colour (RGB).
    pub card: [f32; 3],
    /// Gaussian blur sigma in pixels (0 = sharp).
    pub blur: f64,
    /// Glare spot: centre (fraction of the frame), radius (fraction of the width), strength
    /// (added luma at the centre, 0 = none).
    pub glare: ((f64, f64), f64, f32),
    /// Exposure: output = input * gain + offset, before clipping.
    pub gain: f32,
    pub offset: f32,
    /// Sensor noise sigma (DN).
    pub noise: f32,
    /// Convert to grey (a scan).
    pub grey: bool,
    /// Threshold to pure black and white (a photocopy); implies grey.
    pub threshold: bool,
    /// Draw the portrait on a dark backdrop and the text and MRZ lines as solid dark bars, as
    /// on high-contrast or redacted cards: large dark areas that reach the card's edges and,
    /// when the card crosses the frame, the frame border too.
    pub solid_fields: bool,
}

impl Scene {
    /// A sharp, well-exposed portrait photo like the peer's: the card spans 86% of the width.
    pub fn sharp(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            seed: 7,
            centre: (0.5, 0.46),
            card_width: 0.86,
            angle: 1.5,
            table: [120.0, 100.0, 80.0],
            card: [214.0, 222.0, 226.0],
            blur: 0.0,
            glare: ((0.6, 0.42), 0.2, 0.0),
            gain: 1.0,
            offset: 0.0,
            noise: 1.5,
            grey: false,
            threshold: false,
            solid_fields: false,
        }
    }

    /// Interleaved RGB pixels, row-major.
    pub fn render(&self) -> Vec<u8> {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut rng = Rng(self.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let table_tex = low_frequency(w, h, &mut rng);
        let glyph_seed = rng.next();
        let cw = self.card_width * w as f64;
        let ch = cw * 54.0 / 85.6;
        // The card is drawn flat once, then placed with bilinear sampling (which also
        // antialiases its edges), as a camera would see a card lying on a table.
        let (tw, th) = (cw.ceil().max(1.0) as usize, ch.ceil().max(1.0) as usize);
        let s = cw / 1032.0; // detail scale: 1 at the peer's 1200 px wide frame
        let curves = guilloche(tw, s, ch);
        let mut card = vec![[0f32; 3]; tw * th];
        for y in 0..th {
            for x in 0..tw {
                let (u, v) = ((x as f64 + 0.5) / cw, (y as f64 + 0.5) / ch);
                card[y * tw + x] = self.card_pixel(u, v, (cw, ch), s, glyph_seed, &curves[x]);
            }
        }
        let (cx, cy) = (self.centre.0 * w as f64, self.centre.1 * h as f64);
        let (sin, cos) = self.angle.to_radians().sin_cos();
        let mut img = vec![0f32; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let t = table_tex[y * w + x];
                let grain =
                    ((x as f64 / w as f64 * 60.0 + f64::from(t) * 2.0).sin() * 0.5 + 0.5) as f32;
                let k = 0.75 + 0.25 * t + 0.15 * grain;
                let mut px = [self.table[0] * k, self.table[1] * k, self.table[2] * k];
                // Card texture coordinates of this pixel's centre.
                let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
                let u = dx * cos + dy * sin + cw / 2.0 - 0.5;
                let v = -dx * sin + dy * cos + ch / 2.0 - 0.5;
                if u > -1.0 && v > -1.0 && u < tw as f64 && v < th as f64 {
                    let (x0, y0) = (u.floor(), v.floor());
                    let (fx, fy) = ((u - x0) as f32, (v - y0) as f32);
                    let mut acc = [0f32; 4]; // colour and coverage
                    for (ox, oy, wgt) in [
                        (0, 0, (1.0 - fx) * (1.0 - fy)),
                        (1, 0, fx * (1.0 - fy)),
                        (0, 1, (1.0 - fx) * fy),
                        (1, 1, fx * fy),
                    ] {
                        let (sx, sy) = (x0 as i64 + ox, y0 as i64 + oy);
                        if sx >= 0 && sy >= 0 && (sx as usize) < tw && (sy as usize) < th {
                            let c = card[sy as usize * tw + sx as usize];
                            for i in 0..3 {
                                acc[i] += c[i] * wgt;
                            }
                            acc[3] += wgt;
                        }
                    }
                    for i in 0..3 {
                        px[i] = acc[i] + px[i] * (1.0 - acc[3]);
                    }
                }
                img[(y * w + x) * 3..][..3].copy_from_slice(&px);
            }
        }
        if self.blur > 0.0 {
            gaussian_blur(&mut img, w, h, self.blur);
        }
        let ((gx, gy), gr, strength) = self.glare;
        let (gx, gy, gr) = (gx * w as f64, gy * h as f64, (gr * w as f64).max(1.0));
        let gauss = gaussian_table(&mut rng);
        let mut out = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let boost = if strength > 0.0 {
                    let d2 = ((x as f64 - gx).powi(2) + (y as f64 - gy).powi(2)) / (gr * gr);
                    if d2 < 16.0 {
                        strength * (-d2 * 0.9).exp() as f32
                    } else {
                        0.0
                    }
                } else {
                    0.0
                };
                let i = (y * w + x) * 3;
                let mut px = [0f32; 3];
                for c in 0..3 {
                    let noise = gauss[(rng.next() >> 52) as usize];
                    px[c] = (img[i + c] + boost) * self.gain + self.offset + self.noise * noise;
                }
                if self.grey || self.threshold {
                    let l = 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2];
                    let l = if self.threshold {
                        if l > 150.0 { 255.0 } else { 0.0 }
                    } else {
                        l
                    };
                    px = [l; 3];
                }
                for c in 0..3 {
                    out[i + c] = px[c].round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        out
    }

    /// Card colour at card coordinates (u, v) in [0, 1).
    fn card_pixel(
        &self,
        u: f64,
        v: f64,
        (cw, ch): (f64, f64),
        s: f64,
        seed: u64,
        curves: &[f64],
    ) -> [f32; 3] {
        let base = self.card;
        let (x, y) = (u * cw, v * ch); // card pixels
        let dark = [25.0f32, 25.0, 30.0];
        // Outline.
        if x < 2.0 * s || y < 2.0 * s || x > cw - 2.0 * s || y > ch - 2.0 * s {
            return [120.0, 120.0, 120.0];
        }
        // Header band with a light title.
        if v < 0.14 {
            let title = (0.04..0.04 + 0.02 * 30.0 / 1.4).contains(&u)
                && (0.04..0.10).contains(&v)
                && glyph(x / (14.0 * s), y / (14.0 * s), seed ^ 0xA5);
            return if title {
                [240.0, 238.0, 232.0]
            } else {
                [40.0, 90.0, 150.0]
            };
        }
        // Portrait: frame, face, shoulders.
        if (0.04..0.30).contains(&u) && (0.20..0.78).contains(&v) {
            let (pu, pv) = ((u - 0.17) / 0.13, (v - 0.43) / 0.16);
            if pu * pu + pv * pv < 1.0 {
                return [175.0, 140.0, 120.0];
            }
            let (su, sv) = ((u - 0.17) / 0.12, (v - 0.78) / 0.18);
            if su * su + sv * sv < 1.0 {
                return [60.0, 70.0, 80.0];
            }
            return if self.solid_fields {
                [45.0, 50.0, 60.0]
            } else {
                [200.0, 200.0, 196.0]
            };
        }
        // Text fields and MRZ: rows of glyph cells.
        let lines: [(f64, f64, f64, f64); 7] = [
            (0.22, 0.34, 0.60, 9.0),
            (0.27, 0.34, 0.75, 14.0),
            (0.41, 0.34, 0.55, 9.0),
            (0.46, 0.34, 0.80, 14.0),
            (0.60, 0.34, 0.70, 14.0),
            (0.84, 0.04, 0.96, 18.0),
            (0.91, 0.04, 0.96, 18.0),
        ];
        for (i, &(top, left, right, size)) in lines.iter().enumerate() {
            let gh = size * s;
            if (left..right).contains(&u) && y >= top * ch && y < top * ch + gh {
                let gx = (x - left * cw) / (gh * 0.7);
                let gy = (y - top * ch) / gh;
                if self.solid_fields || glyph(gx, gy, seed ^ (i as u64 + 1)) {
                    return dark;
                }
            }
        }
        // Guilloche: thin sinusoidal lines over a gentle gradient.
        let mut c = [
            base[0] - 10.0 * v as f32,
            base[1] - 6.0 * u as f32,
            base[2] - 8.0 * (1.0 - u as f32),
        ];
        if curves.iter().any(|&yy| (y - yy).abs() < 0.8 * s) {
            c = [c[0] - 45.0, c[1] - 30.0, c[2] - 15.0];
        }
        c
    }

    /// Encodes [`Scene::render`] as a PNG (see [`png_rgb`]).
    pub fn png(&self) -> Vec<u8> {
        let px = self.render();
        if self.grey || self.threshold {
            let grey: Vec<u8> = px.chunks_exact(3).map(|p| p[0]).collect();
            png_grey(self.width, self.height, &grey)
        } else {
            png_rgb(self.width, self.height, &px)
        }
    }
}

/// For every card column, the heights of the 12 guilloche curves crossing it.
fn guilloche(columns: usize, s: f64, ch: f64) -> Vec<[f64; 12]> {
    (0..columns)
        .map(|x| {
            let x = x as f64 + 0.5;
            std::array::from_fn(|k| {
                let k = k as f64;
                let amp = (8.0 + 3.0 * k) * s;
                ch * 0.55
                    + amp * (x / (38.0 * s) + k * 0.7).sin()
                    + 0.6 * amp * (x / (11.0 * s) + k * 1.4).sin()
            })
        })
        .collect()
}

/// 4096 standard normal samples, drawn once per render and indexed by random bits.
fn gaussian_table(rng: &mut Rng) -> Vec<f32> {
    (0..4096).map(|_| rng.gaussian()).collect()
}

/// Pseudo-glyph: a 5x7 bitmap cell per character (1 column of spacing), stroke-like.
fn glyph(gx: f64, gy: f64, seed: u64) -> bool {
    if gx < 0.0 || !(0.0..1.0).contains(&gy) {
        return false;
    }
    let cell = gx.floor() as u64;
    let fx = gx - gx.floor();
    let col = (fx * 6.0) as u64; // 5 columns + spacing
    let row = (gy * 7.0) as u64;
    if col >= 5 || cell % 9 == 8 {
        return false; // letter spacing and word gaps
    }
    let h = hash(seed ^ cell.wrapping_mul(0x9E37_79B9));
    // Vertical strokes on columns 0 and 4 half the time, horizontal bars on rows 0, 3, 6.
    let vertical = (col == 0 && h & 1 != 0) || (col == 4 && h & 2 != 0) || (col == 2 && h & 4 != 0);
    let horizontal =
        (row == 0 && h & 8 != 0) || (row == 3 && h & 16 != 0) || (row == 6 && h & 32 != 0);
    vertical || horizontal || (h >> (6 + row * 5 + col)) & 1 != 0 && h & 64 != 0
}

fn hash(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    x = x.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    x ^ (x >> 33)
}

/// Small deterministic generator (xorshift64*), with a Gaussian via Box-Muller.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn gaussian(&mut self) -> f32 {
        let (a, b) = (self.unit(), self.unit());
        ((-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()) as f32
    }
}

/// Smooth noise in about [-1, 1]: a coarse random grid, bilinearly interpolated.
fn low_frequency(w: usize, h: usize, rng: &mut Rng) -> Vec<f32> {
    let (gw, gh) = (w / 40 + 2, h / 40 + 2);
    let grid: Vec<f32> = (0..gw * gh)
        .map(|_| rng.gaussian().clamp(-2.0, 2.0) * 0.5)
        .collect();
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        let fy = y as f32 / 40.0;
        let (y0, ty) = (fy as usize, fy.fract());
        for x in 0..w {
            let fx = x as f32 / 40.0;
            let (x0, tx) = (fx as usize, fx.fract());
            let g = |xx: usize, yy: usize| grid[yy.min(gh - 1) * gw + xx.min(gw - 1)];
            let top = g(x0, y0) * (1.0 - tx) + g(x0 + 1, y0) * tx;
            let bottom = g(x0, y0 + 1) * (1.0 - tx) + g(x0 + 1, y0 + 1) * tx;
            out[y * w + x] = top * (1.0 - ty) + bottom * ty;
        }
    }
    out
}

/// Gaussian blur approximated by three box blurs per axis (interleaved RGB f32).
fn gaussian_blur(img: &mut [f32], w: usize, h: usize, sigma: f64) {
    // Box width for three passes: w = sqrt(12 sigma^2 / 3 + 1).
    let r = (((4.0 * sigma * sigma + 1.0).sqrt() - 1.0) / 2.0)
        .round()
        .max(1.0) as usize;
    let mut line = Vec::new();
    for _ in 0..3 {
        for y in 0..h {
            box_line(img, y * w * 3, 3, w, r, &mut line);
        }
        for x in 0..w {
            box_line(img, x * 3, w * 3, h, r, &mut line);
        }
    }
}

/// Box filter of radius `r` along `n` samples starting at `start` with `stride`, for each of the
/// three interleaved channels, clamping at the ends.
fn box_line(img: &mut [f32], start: usize, stride: usize, n: usize, r: usize, line: &mut Vec<f32>) {
    for c in 0..3 {
        line.clear();
        line.extend((0..n).map(|i| img[start + i * stride + c]));
        let at = |i: isize| line[i.clamp(0, n as isize - 1) as usize];
        let norm = 1.0 / (2 * r + 1) as f32;
        let mut acc: f32 = (-(r as isize)..=r as isize).map(at).sum();
        for i in 0..n {
            img[start + i * stride + c] = acc * norm;
            acc += at(i as isize + r as isize + 1) - at(i as isize - r as isize);
        }
    }
}

/// A PNG of one flat colour.
pub fn solid_png(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let px: Vec<u8> = (0..width as usize * height as usize)
        .flat_map(|_| rgb)
        .collect();
    png_rgb(width, height, &px)
}

/// An 8-bit RGB PNG with stored (uncompressed) deflate blocks. `rgb` holds width x height x 3
/// bytes.
pub fn png_rgb(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
    png_raw(width, height, 2, 3, rgb)
}

/// An 8-bit greyscale PNG (colour type 0).
pub fn png_grey(width: u32, height: u32, grey: &[u8]) -> Vec<u8> {
    png_raw(width, height, 0, 1, grey)
}

/// An 8-bit greyscale PNG with an alpha channel (colour type 4): `grey_alpha` holds width x
/// height pairs of grey and alpha.
pub fn png_grey_alpha(width: u32, height: u32, grey_alpha: &[u8]) -> Vec<u8> {
    png_raw(width, height, 4, 2, grey_alpha)
}

fn png_raw(width: u32, height: u32, colour_type: u8, channels: usize, px: &[u8]) -> Vec<u8> {
    let line = width as usize * channels;
    let mut raw = Vec::with_capacity((line + 1) * height as usize);
    for row in px.chunks_exact(line.max(1)).take(height as usize) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut zlib = vec![0x78, 0x01];
    let mut blocks = raw.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        zlib.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(block) = blocks.next() {
        zlib.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, colour_type, 0, 0, 0]);
    let mut out = crate::png::SIGNATURE.to_vec();
    crate::png::write_chunk(&mut out, b"IHDR", &ihdr);
    crate::png::write_chunk(&mut out, b"IDAT", &zlib);
    crate::png::write_chunk(&mut out, b"IEND", &[]);
    out
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &d in chunk {
            a += u32::from(d);
            b += a;
        }
        a %= 65_521;
        b %= 65_521;
    }
    (b << 16) | a
}
