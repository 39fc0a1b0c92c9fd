//! Connected components (4-connectivity) of bright pixels by runs: each row is reduced to runs
//! of pixels at or above a level, runs overlapping a run of the previous row are merged with a
//! union-find. Cost grows with the number of runs, not pixels.

#[derive(Debug, Default)]
pub(crate) struct Blobs {
    parent: Vec<u32>,
    area: Vec<u64>,
    prev: Vec<(usize, usize, u32)>,
    cur: Vec<(usize, usize, u32)>,
}

impl Blobs {
    pub(crate) fn start(&mut self) {
        self.parent.clear();
        self.area.clear();
        self.prev.clear();
        self.cur.clear();
    }

    fn find(&mut self, mut l: u32) -> u32 {
        while self.parent[l as usize] != l {
            let grand = self.parent[self.parent[l as usize] as usize];
            self.parent[l as usize] = grand;
            l = grand;
        }
        l
    }

    /// Adds one row: the pixels of `row` at or above `level` within the spans `spans`
    /// (sorted, disjoint `[start, end)` ranges), the rest being excluded.
    pub(crate) fn add_row(&mut self, row: &[f32], spans: &[(usize, usize)], level: f32) {
        self.cur.clear();
        for &(a, b) in spans {
            let mut x = a;
            while x < b {
                if row[x] < level {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < b && row[x] >= level {
                    x += 1;
                }
                self.cur.push((start, x, u32::MAX));
            }
        }
        // Merge with overlapping runs of the previous row (two pointers over sorted runs).
        let mut j = 0;
        for i in 0..self.cur.len() {
            let (a, b, _) = self.cur[i];
            while j < self.prev.len() && self.prev[j].1 <= a {
                j += 1;
            }
            let mut label = u32::MAX;
            let mut k = j;
            while k < self.prev.len() && self.prev[k].0 < b {
                let root = self.find(self.prev[k].2);
                if label == u32::MAX {
                    label = root;
                } else if root != label {
                    self.parent[root as usize] = label;
                }
                k += 1;
            }
            if label == u32::MAX {
                label = self.parent.len() as u32;
                self.parent.push(label);
                self.area.push(0);
            }
            self.area[label as usize] += (b - a) as u64;
            self.cur[i].2 = label;
        }
        std::mem::swap(&mut self.prev, &mut self.cur);
    }

    /// Total area of the components of at least `min_area` pixels.
    pub(crate) fn covered(&mut self, min_area: f64) -> u64 {
        let n = self.parent.len();
        let mut total = vec![0u64; n];
        for l in 0..n {
            let root = self.find(l as u32) as usize;
            total[root] += self.area[l];
        }
        total.iter().filter(|&&a| a as f64 >= min_area).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(img: &[&str], min: f64) -> u64 {
        let mut b = Blobs::default();
        b.start();
        for line in img {
            let row: Vec<f32> = line
                .chars()
                .map(|c| if c == '#' { 255.0 } else { 0.0 })
                .collect();
            b.add_row(&row, &[(0, row.len())], 250.0);
        }
        b.covered(min)
    }

    #[test]
    fn merges_u_shapes_and_separates_diagonals() {
        let u = ["#...#", "#...#", "#####"];
        assert_eq!(run(&u, 9.0), 9);
        assert_eq!(run(&u, 10.0), 0);
        // Diagonal neighbours are not 4-connected: two blobs of 2.
        let diag = ["##..", "..##"];
        assert_eq!(run(&diag, 3.0), 0);
        assert_eq!(run(&diag, 2.0), 4);
        // A W joins three columns through the bottom row.
        let w = ["#.#.#", "#.#.#", "#####"];
        assert_eq!(run(&w, 11.0), 11);
    }

    #[test]
    fn spans_exclude_pixels() {
        let mut b = Blobs::default();
        b.start();
        b.add_row(&[255.0; 10], &[(0, 3), (6, 10)], 250.0);
        assert_eq!(b.covered(4.0), 4);
        assert_eq!(b.covered(3.0), 7);
    }
}
