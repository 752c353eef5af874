//! Where the interesting part of a picture is: for `g_auto`, a coarse interest map and the
//! crop window that keeps the most of it; for `g_face`/`g_faces` and the `_faces` effects,
//! the faces a Haar cascade finds.
//!
//! Pure arithmetic on small grayscale frames (the engine decodes and shrinks them): no libav,
//! no I/O, so the heuristics are table-tested on synthetic pictures. The planner only sees the
//! [`Map`], never pixels.

mod faces;
mod saliency;
mod trim;

pub use faces::{Cascade, Face};
pub use saliency::interest;
pub use trim::content_box;

use serde::{Deserialize, Serialize};

/// An 8-bit grayscale picture, rows packed without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gray {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

impl Gray {
    pub fn new(width: usize, height: usize, pixels: Vec<u8>) -> Option<Gray> {
        (width > 0 && height > 0 && pixels.len() == width * height).then_some(Gray {
            width,
            height,
            pixels,
        })
    }

    fn at(&self, x: usize, y: usize) -> u8 {
        self.pixels[y * self.width + x]
    }

    /// The `w`×`h` part at (`x`, `y`) (clamped to the picture).
    #[must_use]
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Gray {
        let x = x.min(self.width.saturating_sub(1));
        let y = y.min(self.height.saturating_sub(1));
        let (w, h) = (w.min(self.width - x).max(1), h.min(self.height - y).max(1));
        let pixels = (y..y + h)
            .flat_map(|row| self.pixels[row * self.width + x..row * self.width + x + w].iter())
            .copied()
            .collect();
        Gray {
            width: w,
            height: h,
            pixels,
        }
    }

    /// The picture as shown upright, given its EXIF-numbered orientation (1 = as stored;
    /// 6 = turn 90° clockwise; 2, 4, 5, 7 mirror).
    #[must_use]
    pub fn upright(&self, orientation: u8) -> Gray {
        let (w, h) = (self.width, self.height);
        let swaps = (5..=8).contains(&orientation);
        let (ow, oh) = if swaps { (h, w) } else { (w, h) };
        let source = |x: usize, y: usize| match orientation {
            2 => (w - 1 - x, y),
            3 => (w - 1 - x, h - 1 - y),
            4 => (x, h - 1 - y),
            5 => (y, x),
            6 => (y, h - 1 - x),
            7 => (w - 1 - y, h - 1 - x),
            8 => (w - 1 - y, x),
            _ => (x, y),
        };
        Gray {
            width: ow,
            height: oh,
            pixels: (0..oh)
                .flat_map(|y| (0..ow).map(move |x| (x, y)))
                .map(|(x, y)| {
                    let (sx, sy) = source(x, y);
                    self.at(sx, sy)
                })
                .collect(),
        }
    }
}

/// How interesting each cell of a `cols`×`rows` grid over the picture is (non-negative).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Map {
    pub cols: usize,
    pub rows: usize,
    pub weights: Vec<f32>,
}

impl Map {
    /// How much of all the interest the best window of `w`×`h` (fractions) holds, 0–1 (1 for
    /// a map with no interest at all: nothing is lost).
    pub fn share(&self, w: f64, h: f64) -> f64 {
        let (cols, rows) = (self.cols.max(1), self.rows.max(1));
        if self.weights.len() != cols * rows {
            return 1.0;
        }
        let span = |f: f64, n: usize| ((f * n as f64).round() as usize).clamp(1, n);
        let (ww, wh) = (span(w, cols), span(h, rows));
        let table = SummedArea::new(&self.weights, cols, rows);
        let total = table.sum(0, 0, cols, rows);
        if total <= 0.0 {
            return 1.0;
        }
        let mut best: f64 = 0.0;
        for top in 0..=rows - wh {
            for left in 0..=cols - ww {
                best = best.max(table.sum(left, top, ww, wh));
            }
        }
        best / total
    }

    /// The centre (fractions of width and height) of the window of `w`×`h` (fractions) that
    /// holds the most interest; ties go to the window nearest the middle.
    pub fn best_window(&self, w: f64, h: f64) -> (f64, f64) {
        let (cols, rows) = (self.cols.max(1), self.rows.max(1));
        if self.weights.len() != cols * rows {
            return (0.5, 0.5);
        }
        let span = |f: f64, n: usize| ((f * n as f64).round() as usize).clamp(1, n);
        let (ww, wh) = (span(w, cols), span(h, rows));
        let table = SummedArea::new(&self.weights, cols, rows);
        let mut best = (f64::MIN, 0.5, 0.5);
        for top in 0..=rows - wh {
            for left in 0..=cols - ww {
                let cx = (left as f64 + ww as f64 / 2.0) / cols as f64;
                let cy = (top as f64 + wh as f64 / 2.0) / rows as f64;
                // A gentle pull to the middle breaks ties and decides flat (or empty) maps.
                let pull = 1.0 - 0.02 * ((cx - 0.5).abs() + (cy - 0.5).abs());
                let floor = 1e-3 * (ww * wh) as f64;
                let score = (table.sum(left, top, ww, wh) + floor) * pull;
                if score > best.0 + 1e-9 {
                    best = (score, cx, cy);
                }
            }
        }
        (best.1, best.2)
    }
}

/// Sums of rectangles of a grid in constant time.
struct SummedArea {
    cols: usize,
    sums: Vec<f64>,
}

impl SummedArea {
    fn new(weights: &[f32], cols: usize, rows: usize) -> SummedArea {
        let stride = cols + 1;
        let mut sums = vec![0.0; stride * (rows + 1)];
        for y in 0..rows {
            for x in 0..cols {
                sums[(y + 1) * stride + x + 1] = f64::from(weights[y * cols + x])
                    + sums[y * stride + x + 1]
                    + sums[(y + 1) * stride + x]
                    - sums[y * stride + x];
            }
        }
        SummedArea { cols, sums }
    }

    fn sum(&self, left: usize, top: usize, w: usize, h: usize) -> f64 {
        let s = self.cols + 1;
        let at = |x: usize, y: usize| self.sums[y * s + x];
        at(left + w, top + h) - at(left, top + h) - at(left + w, top) + at(left, top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orientation_moves_pixels_as_a_viewer_would() {
        // 3x2: 1 2 3 / 4 5 6
        let g = Gray::new(3, 2, vec![1, 2, 3, 4, 5, 6]).unwrap();
        let r = g.upright(6);
        assert_eq!((r.width, r.height), (2, 3));
        assert_eq!(r.pixels, vec![4, 1, 5, 2, 6, 3]);
        assert_eq!(g.upright(8).pixels, vec![3, 6, 2, 5, 1, 4]);
        assert_eq!(g.upright(3).pixels, vec![6, 5, 4, 3, 2, 1]);
        assert_eq!(g.upright(2).pixels, vec![3, 2, 1, 6, 5, 4]);
        assert_eq!(g.upright(4).pixels, vec![4, 5, 6, 1, 2, 3]);
        assert_eq!(g.upright(5).pixels, vec![1, 4, 2, 5, 3, 6]);
        assert_eq!(g.upright(7).pixels, vec![6, 3, 5, 2, 4, 1]);
        assert_eq!(g.upright(1), g);
    }

    #[test]
    fn the_best_window_covers_the_interest() {
        let mut weights = vec![0.0; 10 * 4];
        weights[8] = 1.0; // column 8, row 0
        weights[18] = 1.0; // column 8, row 1
        let map = Map {
            cols: 10,
            rows: 4,
            weights,
        };
        let (cx, cy) = map.best_window(0.3, 1.0);
        assert!((0.75..=0.9).contains(&cx), "{cx}");
        assert!((cy - 0.5).abs() < 1e-9);
        // A flat map keeps the middle.
        let flat = Map {
            cols: 10,
            rows: 4,
            weights: vec![1.0; 40],
        };
        assert_eq!(flat.best_window(0.4, 0.5), (0.5, 0.5));
        // A window bigger than the picture is the whole picture.
        assert_eq!(flat.best_window(2.0, 2.0), (0.5, 0.5));
    }
}
