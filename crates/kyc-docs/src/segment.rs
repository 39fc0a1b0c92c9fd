//! Finds the document in a small (about 300 px) version of the frame: Otsu threshold, the
//! class that touches the frame border less is the document, holes (text, portrait, glare) are
//! filled, the largest connected region is kept and must look like a card (big enough, nearly
//! convex, not touching all four sides). Where it touches the frame border, it is cut off; holes
//! that the frame border cuts open (dark fields of a card crossing the frame) are filled too.

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
    bg: Runs,
    fg: Runs,
    /// The runs of the best candidate so far (swapped out of `fg`, so never recomputed).
    best_fg: Runs,
    outside: Vec<bool>,
    area: Vec<u64>,
    hull: Vec<(i64, i64)>,
    points: Vec<(i64, i64)>,
    /// The hull's horizontal extent at each integer height.
    extent: Vec<(f64, f64)>,
    /// Per background component: lies within the hull.
    pocket: Vec<bool>,
}

/// Runs of one class, row by row, labelled into 4-connected components with a union-find.
#[derive(Debug, Default)]
struct Runs {
    /// `(start, end, label)` of every run, row after row.
    runs: Vec<(usize, usize, u32)>,
    /// Index of each row's first run in `runs` (plus one final entry).
    rows: Vec<usize>,
    parent: Vec<u32>,
}

impl Runs {
    fn clear(&mut self) {
        self.runs.clear();
        self.rows.clear();
        self.parent.clear();
    }

    fn find(&mut self, mut l: u32) -> u32 {
        while self.parent[l as usize] != l {
            let grand = self.parent[self.parent[l as usize] as usize];
            self.parent[l as usize] = grand;
            l = grand;
        }
        l
    }

    /// Appends a row of runs (sorted, disjoint) and links them to overlapping runs of the
    /// previous row.
    fn push_row(&mut self, row: impl Iterator<Item = (usize, usize)>) {
        let prev = match self.rows.last() {
            Some(&first) => first..self.runs.len(),
            None => 0..0,
        };
        self.rows.push(self.runs.len());
        let mut j = prev.start;
        for (a, b) in row {
            while j < prev.end && self.runs[j].1 <= a {
                j += 1;
            }
            let mut label = u32::MAX;
            let mut k = j;
            while k < prev.end && self.runs[k].0 < b {
                let root = self.find(self.runs[k].2);
                if label == u32::MAX {
                    label = root;
                } else if root != label {
                    let (lo, hi) = (label.min(root), label.max(root));
                    self.parent[hi as usize] = lo;
                    label = lo;
                }
                k += 1;
            }
            if label == u32::MAX {
                label = self.parent.len() as u32;
                self.parent.push(label);
            }
            self.runs.push((a, b, label));
        }
    }

    fn finish(&mut self) {
        self.rows.push(self.runs.len());
        for i in 0..self.runs.len() {
            let root = self.find(self.runs[i].2);
            self.runs[i].2 = root;
        }
    }

    fn row(&self, y: usize) -> &[(usize, usize, u32)] {
        &self.runs[self.rows[y]..self.rows[y + 1]]
    }
}

/// Maximal runs of `true` in a row of booleans given as a predicate over `0..w`.
fn runs_of(w: usize, mut on: impl FnMut(usize) -> bool) -> impl Iterator<Item = (usize, usize)> {
    let mut x = 0;
    std::iter::from_fn(move || {
        while x < w && !on(x) {
            x += 1;
        }
        if x >= w {
            return None;
        }
        let start = x;
        while x < w && on(x) {
            x += 1;
        }
        Some((start, x))
    })
}

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
        // Otsu splits the frame in two. With three levels (a light card with a dark band on a
        // light table) the split can leave the card on one side with the table: then each
        // side is split again, the brighter first.
        let split = |range: std::ops::Range<usize>| {
            let mut part = [0u32; 256];
            part[range.clone()].copy_from_slice(&hist[range.clone()]);
            let t = f32::from(otsu(&part)) + 1.0;
            (t > range.start as f32 && t < range.end as f32).then_some(t)
        };
        let cut = t0 as usize;
        let best = self.search(img, (w, h), t0, bounds).or_else(|| {
            [split(cut..256), split(0..cut)]
                .into_iter()
                .flatten()
                .find_map(|t| self.search(img, (w, h), t, bounds))
        });
        let Some(c) = best else { return doc };
        doc.mask.fill(0);
        for y in 0..h {
            for &(a, b, l) in self.best_fg.row(y) {
                if l == c.label {
                    doc.mask[y * w + a..y * w + b].fill(1);
                }
            }
        }
        doc.located = true;
        doc.area_fraction = c.area as f64 / (w * h) as f64;
        doc.contact = c.contact;
        doc.solidity = c.solidity;
        doc.rectangularity = c.rectangularity;
        doc
    }

    /// The best-shaped plausible document region, from threshold `t0` on; its runs are left in
    /// `best_fg`.
    fn search(
        &mut self,
        img: &[f32],
        (w, h): (usize, usize),
        t0: f32,
        bounds: Plausible,
    ) -> Option<Candidate> {
        let ring_total = 2 * (w + h) - 4;
        let ring_bright = (0..w)
            .flat_map(|x| [x, (h - 1) * w + x])
            .chain((1..h - 1).flat_map(|y| [y * w, y * w + w - 1]))
            .filter(|&i| img[i] >= t0)
            .count();
        // The document is the class that touches the frame border less.
        let doc_is_bright = ring_bright * 2 <= ring_total;
        // The threshold first; if its region is not convincingly card-shaped (a bright patch
        // of table touching the card leaks into it, say), move the threshold towards the
        // document's side in small steps and keep the best-shaped plausible region.
        let mut best: Option<Candidate> = None;
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
                if plausible && best.is_none_or(|b| shape > b.solidity.min(b.rectangularity)) {
                    best = Some(c);
                    std::mem::swap(&mut self.fg, &mut self.best_fg);
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
        best
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
        // Background runs, and which of their components reach the frame border: those are
        // outside the document; every other background component is a hole and is filled.
        self.bg.clear();
        for y in 0..h {
            let row = &img[y * w..(y + 1) * w];
            self.bg
                .push_row(runs_of(w, |x| (row[x] >= t) != doc_is_bright));
        }
        self.bg.finish();
        self.outside.clear();
        self.outside.resize(self.bg.parent.len(), false);
        for y in 0..h {
            for &(a, b, l) in self.bg.row(y) {
                if y == 0 || y == h - 1 || a == 0 || b == w {
                    self.outside[l as usize] = true;
                }
            }
        }
        self.fill((w, h));
        let c = self.measure((w, h))?;
        // A card that crosses the frame has its dark fields (text, portrait, stripes) cut by
        // the frame border too, so they reach the border and look outside: left as notches,
        // they hide the card's own edge on the border and lengthen its outline, and `contact`
        // drops below the threshold (or the notched region is no longer card-shaped and the
        // card is not located at all). A card is convex, and so is its part inside the frame:
        // a background component lying entirely within the region's convex hull belongs to
        // the card. Filling it only adds pixels inside the hull, so one pass is enough.
        if c.contact > 0.0 && self.enclose_pockets((w, h)) {
            self.fill((w, h));
            return self.measure((w, h));
        }
        Some(c)
    }

    /// Filled document runs: the gaps between outside background runs, labelled.
    fn fill(&mut self, (w, h): (usize, usize)) {
        self.fg.clear();
        for y in 0..h {
            let (bg, outside) = (self.bg.row(y), &self.outside);
            let mut edges = bg
                .iter()
                .filter(|r| outside[r.2 as usize])
                .map(|r| (r.0, r.1))
                .peekable();
            let mut x = 0;
            let gaps = std::iter::from_fn(|| {
                loop {
                    match edges.peek().copied() {
                        Some((a, b)) if a <= x => {
                            x = x.max(b);
                            edges.next();
                        }
                        Some((a, b)) => {
                            let gap = (x, a);
                            x = b;
                            edges.next();
                            return Some(gap);
                        }
                        None if x < w => {
                            let gap = (x, w);
                            x = w;
                            return Some(gap);
                        }
                        None => return None,
                    }
                }
            });
            self.fg.push_row(gaps);
        }
        self.fg.finish();
    }

    /// Shape figures of the largest filled component; its convex hull is left in `hull`.
    fn measure(&mut self, (w, h): (usize, usize)) -> Option<Candidate> {
        self.area.clear();
        self.area.resize(self.fg.parent.len(), 0);
        for &(a, b, l) in &self.fg.runs {
            self.area[l as usize] += (b - a) as u64;
        }
        let (label, &area) = self.area.iter().enumerate().max_by_key(|&(_, a)| *a)?;
        if area == 0 {
            return None;
        }
        let label = label as u32;

        // Perimeter and frame contact in unit edges, row extents for the hull.
        let (mut perimeter, mut contact) = (0usize, 0usize);
        let mut sides = [false; 4];
        self.points.clear();
        let mut prev: &[(usize, usize, u32)] = &[];
        for y in 0..=h {
            let cur: &[(usize, usize, u32)] = if y < h { self.fg.row(y) } else { &[] };
            // Horizontal edges between row y-1 and row y: the symmetric difference of the
            // component's coverage; on the frame when y is 0 or h.
            let diff = coverage_difference(prev, cur, label);
            perimeter += diff;
            if y == 0 || y == h {
                contact += diff;
                if diff > 0 {
                    sides[if y == 0 { 1 } else { 3 }] = true;
                }
            }
            let (mut left, mut right) = (usize::MAX, 0);
            for &(a, b, _) in cur.iter().filter(|r| r.2 == label) {
                perimeter += 2;
                if a == 0 {
                    contact += 1;
                    sides[0] = true;
                }
                if b == w {
                    contact += 1;
                    sides[2] = true;
                }
                left = left.min(a);
                right = right.max(b);
            }
            if left < right {
                let (l, r, y) = (left as i64, right as i64, y as i64);
                self.points
                    .extend_from_slice(&[(l, y), (l, y + 1), (r, y), (r, y + 1)]);
            }
            prev = cur;
        }
        if sides.iter().all(|&s| s) {
            return None;
        }
        convex_hull(&mut self.points, &mut self.hull);
        let hull_area = polygon_area(&self.hull);
        let rect_area = min_rectangle_area(&self.hull);
        let area_f = area as f64;
        let ratio = |a: f64| if a > 0.0 { (area_f / a).min(1.0) } else { 0.0 };
        Some(Candidate {
            label,
            area: area as usize,
            contact: contact as f64 / perimeter.max(1) as f64,
            solidity: ratio(hull_area),
            rectangularity: ratio(rect_area),
        })
    }

    /// Marks as holes the outside background components that lie entirely within `hull`;
    /// tells whether there was any.
    fn enclose_pockets(&mut self, (_, h): (usize, usize)) -> bool {
        // The hull's horizontal extent at every integer height 0..=h (pixel row y spans
        // heights y to y + 1; hull vertices are pixel corners).
        self.extent.clear();
        self.extent
            .resize(h + 1, (f64::INFINITY, f64::NEG_INFINITY));
        let n = self.hull.len();
        for i in 0..n {
            let (p, q) = (self.hull[i], self.hull[(i + 1) % n]);
            let (y0, y1) = (p.1.min(q.1).max(0), p.1.max(q.1).min(h as i64));
            for y in y0..=y1 {
                // A horizontal edge counts with both ends.
                let (l, r) = if p.1 == q.1 {
                    (p.0.min(q.0) as f64, p.0.max(q.0) as f64)
                } else {
                    let x = p.0 as f64 + (y - p.1) as f64 * (q.0 - p.0) as f64 / (q.1 - p.1) as f64;
                    (x, x)
                };
                let e = &mut self.extent[y as usize];
                *e = (e.0.min(l), e.1.max(r));
            }
        }
        // A run covers [a, b] x [y, y + 1]: inside the convex hull when its four corners are.
        const EPS: f64 = 1e-9;
        self.pocket.clear();
        self.pocket.extend_from_slice(&self.outside);
        for y in 0..h {
            let (top, bottom) = (self.extent[y], self.extent[y + 1]);
            let (lo, hi) = (top.0.max(bottom.0) - EPS, top.1.min(bottom.1) + EPS);
            for &(a, b, l) in self.bg.row(y) {
                if (a as f64) < lo || (b as f64) > hi {
                    self.pocket[l as usize] = false;
                }
            }
        }
        let mut any = false;
        for (outside, &pocket) in self.outside.iter_mut().zip(&self.pocket) {
            if pocket {
                *outside = false;
                any = true;
            }
        }
        any
    }
}

/// Length of the symmetric difference between the coverage of component `label` in two rows.
fn coverage_difference(a: &[(usize, usize, u32)], b: &[(usize, usize, u32)], label: u32) -> usize {
    let mut a = a.iter().filter(|r| r.2 == label).peekable();
    let mut b = b.iter().filter(|r| r.2 == label).peekable();
    let (mut total, mut overlap) = (0, 0);
    loop {
        match (a.peek(), b.peek()) {
            (Some(&&(a0, a1, _)), Some(&&(b0, b1, _))) => {
                overlap += a1.min(b1).saturating_sub(a0.max(b0));
                if a1 < b1 {
                    total += a1 - a0;
                    a.next();
                } else {
                    total += b1 - b0;
                    b.next();
                }
            }
            (Some(&&(a0, a1, _)), None) => {
                total += a1 - a0;
                a.next();
            }
            (None, Some(&&(b0, b1, _))) => {
                total += b1 - b0;
                b.next();
            }
            (None, None) => return total - 2 * overlap,
        }
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
        min_shape: 0.82,
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
        let img = scene(200, 300, (60, 90, 260, 186), true);
        let d = Segmenter::default().locate(&img, (200, 300), BOUNDS);
        assert!(d.located);
        // Right side cut: 96 of 2 x 140 + 2 x 96 edges. The text rows crossing the frame
        // border are part of the card, not notches cut into it.
        assert_eq!(d.contact, 96.0 / 472.0);
        assert!(d.solidity > 0.99, "{}", d.solidity);
    }

    /// `img` (w x h) turned by one of four transforms that move its right side to another
    /// side of the frame: as is, mirrored (left), transposed (bottom), transposed and mirrored
    /// (top).
    fn turned(img: &[f32], (w, h): (usize, usize), k: usize) -> (Vec<f32>, (usize, usize)) {
        let (tw, th) = if k < 2 { (w, h) } else { (h, w) };
        let out = (0..tw * th)
            .map(|i| {
                let (x, y) = (i % tw, i / tw);
                let x = if k % 2 == 1 { tw - 1 - x } else { x };
                let (sx, sy) = if k < 2 { (x, y) } else { (y, x) };
                img[sy * w + sx]
            })
            .collect();
        (out, (tw, th))
    }

    #[test]
    fn dark_fields_cut_by_the_frame_are_part_of_the_card() {
        // A light card crossing the right side with solid dark bars (text fields, a stripe)
        // running from its middle out of the frame, as in a tester's photo that passed
        // `cutoff`: the bars reach the frame border, so they used to count as background,
        // notching the card, hiding most of its edge on the border and lengthening its outline.
        let (w, h) = (200, 300);
        let mut img = scene(w, h, (60, 90, 260, 186), true);
        for y in 90..186 {
            if (y - 90) % 10 >= 4 && y < 180 {
                img[y * w + 130..(y + 1) * w].fill(30.0);
            }
        }
        for k in 0..4 {
            let (img, size) = turned(&img, (w, h), k);
            let d = Segmenter::default().locate(&img, size, BOUNDS);
            assert!(d.located, "{k}");
            assert_eq!(d.contact, 96.0 / 472.0, "{k}");
            assert!(d.solidity > 0.99, "{k}: {}", d.solidity);
            assert_eq!(d.mask.iter().filter(|&&m| m == 1).count(), 140 * 96, "{k}");
        }
    }

    #[test]
    fn a_light_card_with_a_dark_band_on_a_light_table() {
        // Three levels, as in a tester's photo refused with "no document outline found": a
        // light grey table (170), a cream card (235) whose top 14 % is a dark band (40). Otsu
        // splits the band from the rest, and neither side of that split is the card.
        let (w, h) = (200, 300);
        let (x0, y0, x1, y1) = (20, 90, 180, 191);
        let mut img = vec![170f32; w * h];
        for y in y0..y1 {
            for x in x0..x1 {
                let band = y < y0 + 14;
                let text = y % 6 == 3 && x % 4 != 0 && y > y0 + 20;
                img[y * w + x] = if band || text { 40.0 } else { 235.0 };
            }
        }
        let d = Segmenter::default().locate(&img, (w, h), BOUNDS);
        assert!(d.located);
        assert_eq!(d.contact, 0.0);
        // The card's body: the band reads as table.
        let body = (160.0 * 87.0) / (200.0 * 300.0);
        assert!((d.area_fraction - body).abs() < 0.01, "{}", d.area_fraction);
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
