//! Finds the document in a small (about 300 px) version of the frame: Otsu threshold, the
//! class that touches the frame border less is the document, holes (text, portrait, glare) are
//! filled, the largest connected region is kept and must look like a card (big enough, nearly
//! convex, not touching all four sides). Where it touches the frame border, it is cut off.

/// The document region at the coarse scale.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Document {
    /// A plausible document region was found; otherwise `mask` covers the whole frame.
    pub located: bool,
    /// One byte per coarse pixel: 1 inside the document.
    pub mask: Vec<u8>,
    pub size: (usize, usize),
    /// Document area over frame area.
    pub area_fraction: f64,
    /// Share of the document's outline lying on the frame border (0 when fully inside).
    pub contact: f64,
    /// Document area over its convex hull's area.
    pub solidity: f64,
    /// Document area over the area of its smallest enclosing (rotated) rectangle: about 1 for
    /// a card seen in perspective, 0.785 for a round blob such as a glare spot.
    pub rectangularity: f64,
}

/// Plausibility bounds for a located document.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plausible {
    pub min_area: f64,
    pub max_area: f64,
    pub min_shape: f64,
}

#[derive(Debug, Default)]
pub(crate) struct Segmenter {
    /// Class per cell of the grid padded by one background cell on every side.
    bin: Vec<u8>,
    labels: Vec<u32>,
    stack: Vec<usize>,
    hull: Vec<(i64, i64)>,
    points: Vec<(i64, i64)>,
}

const BACKGROUND: u8 = 0;
const FOREGROUND: u8 = 1;
const REACHED: u8 = 2;

/// A candidate this convex and rectangular is accepted at once; otherwise further thresholds
/// are tried.
const CONVINCING_SHAPE: f64 = 0.93;
/// Step between the thresholds tried after Otsu's, and how many are tried at most.
const THRESHOLD_STEP: f32 = 8.0;
const MAX_THRESHOLDS: usize = 12;

/// Shape figures of one candidate region.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    label: u32,
    area: usize,
    contact: f64,
    solidity: f64,
    rectangularity: f64,
}

impl Segmenter {
    pub(crate) fn locate(
        &mut self,
        img: &[f32],
        (w, h): (usize, usize),
        bounds: Plausible,
    ) -> Document {
        let mut doc = Document {
            located: false,
            mask: vec![1; w * h],
            size: (w, h),
            area_fraction: 1.0,
            contact: 0.0,
            solidity: 1.0,
            rectangularity: 1.0,
        };
        if w < 8 || h < 8 || img.len() != w * h {
            return doc;
        }
        let mut hist = [0u32; 256];
        for &v in img {
            hist[v.clamp(0.0, 255.0) as usize] += 1;
        }
        // Pixels at or above `t` form the bright class.
        let t0 = f32::from(otsu(&hist)) + 1.0;
        let ring_total = 2 * (w + h) - 4;
        let ring_bright = (0..w)
            .flat_map(|x| [x, (h - 1) * w + x])
            .chain((1..h - 1).flat_map(|y| [y * w, y * w + w - 1]))
            .filter(|&i| img[i] >= t0)
            .count();
        // The document is the class that touches the frame border less.
        let doc_is_bright = ring_bright * 2 <= ring_total;
        // Otsu's threshold first; if its region is not convincingly card-shaped (a bright patch
        // of table touching the card leaks into it, say), move the threshold towards the
        // document's side in small steps and keep the best-shaped plausible region.
        let mut best: Option<(f32, Candidate)> = None;
        let mut stale = 0;
        let mut t = t0;
        for _ in 0..MAX_THRESHOLDS {
            if !(1.0..=255.0).contains(&t) {
                break;
            }
            if let Some(c) = self.candidate(img, (w, h), t, doc_is_bright) {
                let shape = c.solidity.min(c.rectangularity);
                let area = c.area as f64 / (w * h) as f64;
                if area < bounds.min_area {
                    // Moving further only shrinks the document class.
                    break;
                }
                let plausible = area <= bounds.max_area && shape >= bounds.min_shape;
                if plausible && best.is_none_or(|(_, b)| shape > b.solidity.min(b.rectangularity)) {
                    best = Some((t, c));
                    stale = 0;
                    if shape >= CONVINCING_SHAPE {
                        break;
                    }
                } else if best.is_some() {
                    stale += 1;
                    if stale == 2 {
                        break;
                    }
                }
            }
            t += if doc_is_bright {
                THRESHOLD_STEP
            } else {
                -THRESHOLD_STEP
            };
        }
        let Some((best_t, c)) = best else { return doc };
        // Rebuild the winner's labels if a later threshold overwrote them.
        let c = if best_t == t {
            c
        } else {
            match self.candidate(img, (w, h), best_t, doc_is_bright) {
                Some(again) => again,
                None => return doc,
            }
        };
        let pw = w + 2;
        for y in 0..h {
            let labels = &self.labels[(y + 1) * pw + 1..][..w];
            for (m, &l) in doc.mask[y * w..(y + 1) * w].iter_mut().zip(labels) {
                *m = u8::from(l == c.label);
            }
        }
        doc.located = true;
        doc.area_fraction = c.area as f64 / (w * h) as f64;
        doc.contact = c.contact;
        doc.solidity = c.solidity;
        doc.rectangularity = c.rectangularity;
        doc
    }

    /// The largest hole-filled region of the document class at threshold `t`, unless it
    /// touches all four sides of the frame (then it is the background, not a card).
    fn candidate(
        &mut self,
        img: &[f32],
        (w, h): (usize, usize),
        t: f32,
        doc_is_bright: bool,
    ) -> Option<Candidate> {
        let (pw, ph) = (w + 2, h + 2);
        self.bin.clear();
        self.bin.resize(pw * ph, BACKGROUND);
        for y in 0..h {
            let src = &img[y * w..(y + 1) * w];
            let dst = &mut self.bin[(y + 1) * pw + 1..][..w];
            for (d, &v) in dst.iter_mut().zip(src) {
                *d = if (v >= t) == doc_is_bright {
                    FOREGROUND
                } else {
                    BACKGROUND
                };
            }
        }
        // Fill holes: background not connected to the padding ring becomes document. The ring
        // is connected, so one flood from a corner reaches all outside background.
        self.stack.clear();
        self.bin[0] = REACHED;
        self.stack.push(0);
        while let Some(p) = self.stack.pop() {
            for n in [p.wrapping_sub(1), p + 1, p.wrapping_sub(pw), p + pw] {
                if let Some(b) = self.bin.get_mut(n)
                    && *b == BACKGROUND
                {
                    *b = REACHED;
                    self.stack.push(n);
                }
            }
        }
        for b in &mut self.bin {
            *b = u8::from(*b != REACHED);
        }

        // Largest 4-connected document region (the padding is background, so interior cells
        // need no bounds checks beyond the slice's own).
        self.labels.clear();
        self.labels.resize(pw * ph, 0);
        let (mut best_label, mut best_area, mut next) = (0u32, 0usize, 0u32);
        for seed in pw..pw * (ph - 1) {
            if self.bin[seed] != FOREGROUND || self.labels[seed] != 0 {
                continue;
            }
            next += 1;
            let mut area = 0;
            self.labels[seed] = next;
            self.stack.push(seed);
            while let Some(p) = self.stack.pop() {
                area += 1;
                for n in [p - 1, p + 1, p - pw, p + pw] {
                    if self.bin[n] == FOREGROUND && self.labels[n] == 0 {
                        self.labels[n] = next;
                        self.stack.push(n);
                    }
                }
            }
            if area > best_area {
                (best_label, best_area) = (next, area);
            }
        }
        if best_area == 0 {
            return None;
        }

        let (mut outline, mut contact) = (0usize, 0usize);
        let mut sides = [false; 4];
        self.points.clear();
        for y in 0..h {
            let row = (y + 1) * pw;
            let (mut left, mut right) = (usize::MAX, 0);
            for x in 0..w {
                let p = row + x + 1;
                if self.labels[p] != best_label {
                    continue;
                }
                left = left.min(x);
                right = x;
                let edge = [x == 0, y == 0, x == w - 1, y == h - 1];
                if edge.iter().any(|&e| e) {
                    contact += 1;
                    for (s, e) in sides.iter_mut().zip(edge) {
                        *s |= e;
                    }
                }
                let l = &self.labels;
                if l[p - 1] != best_label
                    || l[p + 1] != best_label
                    || l[p - pw] != best_label
                    || l[p + pw] != best_label
                {
                    outline += 1;
                }
            }
            if left <= right {
                let (l, r, y) = (left as i64, right as i64 + 1, y as i64);
                self.points
                    .extend_from_slice(&[(l, y), (l, y + 1), (r, y), (r, y + 1)]);
            }
        }
        if sides.iter().all(|&s| s) {
            return None;
        }
        convex_hull(&mut self.points, &mut self.hull);
        let hull_area = polygon_area(&self.hull);
        let rect_area = min_rectangle_area(&self.hull);
        let area = best_area as f64;
        let ratio = |a: f64| if a > 0.0 { (area / a).min(1.0) } else { 0.0 };
        Some(Candidate {
            label: best_label,
            area: best_area,
            contact: contact as f64 / outline.max(1) as f64,
            solidity: ratio(hull_area),
            rectangularity: ratio(rect_area),
        })
    }
}

/// Otsu's threshold: the level maximising the between-class variance (pixels above it are
/// the bright class).
fn otsu(hist: &[u32; 256]) -> u8 {
    let total: f64 = hist.iter().map(|&c| f64::from(c)).sum();
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * f64::from(c))
        .sum();
    let (mut w0, mut sum0) = (0.0, 0.0);
    let (mut best, mut best_t) = (-1.0, 0u8);
    for (t, &c) in hist.iter().enumerate() {
        w0 += f64::from(c);
        sum0 += t as f64 * f64::from(c);
        let w1 = total - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let m0 = sum0 / w0;
        let m1 = (sum_all - sum0) / w1;
        let between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if between > best {
            best = between;
            best_t = t as u8;
        }
    }
    best_t
}

/// Convex hull (Andrew's monotone chain, counter-clockwise) of `pts`, which is sorted in place.
fn convex_hull(pts: &mut [(i64, i64)], hull: &mut Vec<(i64, i64)>) {
    pts.sort_unstable();
    hull.clear();
    if pts.len() < 3 {
        return;
    }
    let cross = |o: (i64, i64), a: (i64, i64), b: (i64, i64)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    for &p in pts.iter() {
        while hull.len() >= 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0 {
            hull.pop();
        }
        hull.push(p);
    }
    let lower = hull.len() + 1;
    for &p in pts.iter().rev().skip(1) {
        while hull.len() >= lower && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0 {
            hull.pop();
        }
        hull.push(p);
    }
    hull.pop();
}

fn polygon_area(poly: &[(i64, i64)]) -> f64 {
    if poly.len() < 3 {
        return 0.0;
    }
    let twice: i64 = (0..poly.len())
        .map(|i| {
            let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum();
    twice.abs() as f64 / 2.0
}

/// Area of the smallest rectangle enclosing a convex polygon: one of its sides lies along an
/// edge of the polygon, so every edge direction is tried.
fn min_rectangle_area(hull: &[(i64, i64)]) -> f64 {
    let n = hull.len();
    if n < 3 {
        return 0.0;
    }
    let mut best = f64::INFINITY;
    for i in 0..n {
        let (a, b) = (hull[i], hull[(i + 1) % n]);
        let (dx, dy) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
        let len = (dx * dx + dy * dy).sqrt();
        if len == 0.0 {
            continue;
        }
        let (ux, uy) = (dx / len, dy / len);
        let (mut lo_u, mut hi_u, mut lo_v, mut hi_v) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, y) in hull {
            let (x, y) = (x as f64, y as f64);
            let u = x * ux + y * uy;
            let v = -x * uy + y * ux;
            lo_u = lo_u.min(u);
            hi_u = hi_u.max(u);
            lo_v = lo_v.min(v);
            hi_v = hi_v.max(v);
        }
        best = best.min((hi_u - lo_u) * (hi_v - lo_v));
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Plausible = Plausible {
        min_area: 0.05,
        max_area: 0.95,
        min_shape: 0.85,
    };

    fn scene(w: usize, h: usize, card: (i64, i64, i64, i64), bright_card: bool) -> Vec<f32> {
        let (x0, y0, x1, y1) = card;
        let mut img = vec![0f32; w * h];
        for y in 0..h {
            for x in 0..w {
                let inside = (x0..x1).contains(&(x as i64)) && (y0..y1).contains(&(y as i64));
                let text = inside && y % 6 == 3 && x % 4 != 0;
                img[y * w + x] = match (inside, bright_card) {
                    (true, _) if text => 30.0,
                    (true, true) | (false, false) => 210.0,
                    _ => 90.0,
                };
            }
        }
        img
    }

    #[test]
    fn finds_a_card_inside_the_frame_either_polarity() {
        for bright in [true, false] {
            let img = scene(200, 300, (20, 90, 180, 190), bright);
            let d = Segmenter::default().locate(&img, (200, 300), BOUNDS);
            assert!(d.located, "bright={bright}");
            assert_eq!(d.contact, 0.0);
            let expected = (160.0 * 100.0) / (200.0 * 300.0);
            assert!(
                (d.area_fraction - expected).abs() < 0.01,
                "{}",
                d.area_fraction
            );
            assert!(d.solidity > 0.98);
        }
    }

    #[test]
    fn card_crossing_the_frame_has_contact() {
        let img = scene(200, 300, (60, 90, 260, 190), true);
        let d = Segmenter::default().locate(&img, (200, 300), BOUNDS);
        assert!(d.located);
        assert!(d.contact > 0.15, "{}", d.contact);
    }

    #[test]
    fn flat_or_tiny_frames_are_not_located() {
        let d = Segmenter::default().locate(&vec![128.0; 400], (20, 20), BOUNDS);
        assert!(!d.located);
        assert_eq!(d.mask.len(), 400);
        assert!(
            !Segmenter::default()
                .locate(&[1.0; 16], (4, 4), BOUNDS)
                .located
        );
    }

    #[test]
    fn hull_and_rectangle_of_a_tilted_square() {
        let mut pts = vec![(0, 0), (4, 0), (4, 4), (0, 4), (2, 2), (1, 3)];
        let mut hull = Vec::new();
        convex_hull(&mut pts, &mut hull);
        assert_eq!(polygon_area(&hull), 16.0);
        assert!((min_rectangle_area(&hull) - 16.0).abs() < 1e-9);
        // A diamond: its hull is its own minimal rectangle (area 8), not the 4x4 box.
        let mut diamond = vec![(2, 0), (4, 2), (2, 4), (0, 2)];
        convex_hull(&mut diamond, &mut hull);
        assert!((min_rectangle_area(&hull) - 8.0).abs() < 1e-9);
    }

    #[test]
    fn a_round_blob_is_not_a_card() {
        let (w, h) = (120, 120);
        let img: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f64 - 60.0, (i / w) as f64 - 60.0);
                if x * x + y * y < 900.0 { 240.0 } else { 60.0 }
            })
            .collect();
        let d = Segmenter::default().locate(&img, (w, h), BOUNDS);
        assert!(!d.located, "rectangularity of a disc is about 0.785: {d:?}");
    }
}
