//! A saliency heuristic: detail, contrast with the surroundings and motion, each measured
//! relative to the frame's own average so that a busy subject on a plain background stands
//! out whatever the exposure.
//!
//! Per sample: a light blur (noise is not detail), then three cues —
//! - *detail*: gradient magnitude;
//! - *contrast*: distance from a wide local mean (centre–surround);
//! - *motion*: difference from a frame a moment later (weighted double: in video, what moves
//!   is usually the subject).
//!
//! Cues are averaged over the samples and pooled into a [`Map`] of [`GRID`]×[`GRID`] cells.

use super::{Gray, Map};

/// Cells per side of the interest map.
const GRID: usize = 32;

/// Motion below this mean difference (in grey levels) is compression noise, not movement.
const STILL: f32 = 0.75;

/// The interest map of a picture or clip from samples: each a frame and, for video, the frame
/// a moment later. Frames of different sizes are each pooled onto the same grid.
pub fn interest(samples: &[(Gray, Option<Gray>)]) -> Map {
    let mut weights = vec![0.0f32; GRID * GRID];
    for (frame, later) in samples {
        let now = blur(frame, 1);
        let mut cues = vec![normalised(&detail(&now)), normalised(&contrast(&now))];
        if let Some(later) = later.as_ref().filter(|l| same_size(l, frame)) {
            let moved = difference(&now, &blur(later, 1));
            if mean(&moved) > STILL {
                let moved = normalised(&moved);
                cues.push(moved.clone());
                cues.push(moved);
            }
        }
        let cells = pool(&sum(&cues), frame.width, frame.height);
        for (w, c) in weights.iter_mut().zip(cells) {
            *w += c;
        }
    }
    Map {
        cols: GRID,
        rows: GRID,
        weights,
    }
}

fn same_size(a: &Gray, b: &Gray) -> bool {
    a.width == b.width && a.height == b.height
}

/// A box blur of `radius` (clamped at the edges), as floats.
fn blur(g: &Gray, radius: usize) -> Plane {
    let src = Plane {
        width: g.width,
        height: g.height,
        values: g.pixels.iter().map(|&p| f32::from(p)).collect(),
    };
    box_blur(&src, radius)
}

/// A float picture the same size as its source.
#[derive(Debug, Clone)]
struct Plane {
    width: usize,
    height: usize,
    values: Vec<f32>,
}

impl Plane {
    fn at(&self, x: usize, y: usize) -> f32 {
        self.values[y * self.width + x]
    }

    fn map(&self, f: impl Fn(usize, usize) -> f32) -> Plane {
        let values = (0..self.height)
            .flat_map(|y| (0..self.width).map(move |x| (x, y)))
            .map(|(x, y)| f(x, y))
            .collect();
        Plane {
            width: self.width,
            height: self.height,
            values,
        }
    }
}

/// Separable box blur: horizontal then vertical running means.
fn box_blur(p: &Plane, radius: usize) -> Plane {
    let horizontal = p.map(|x, y| {
        let (a, b) = (x.saturating_sub(radius), (x + radius).min(p.width - 1));
        (a..=b).map(|i| p.at(i, y)).sum::<f32>() / (b - a + 1) as f32
    });
    horizontal.map(|x, y| {
        let (a, b) = (y.saturating_sub(radius), (y + radius).min(p.height - 1));
        (a..=b).map(|j| horizontal.at(x, j)).sum::<f32>() / (b - a + 1) as f32
    })
}

fn detail(p: &Plane) -> Plane {
    p.map(|x, y| {
        let dx = p.at((x + 1).min(p.width - 1), y) - p.at(x.saturating_sub(1), y);
        let dy = p.at(x, (y + 1).min(p.height - 1)) - p.at(x, y.saturating_sub(1));
        dx.abs() + dy.abs()
    })
}

fn contrast(p: &Plane) -> Plane {
    let surround = box_blur(p, (p.width.max(p.height) / 8).max(1));
    p.map(|x, y| (p.at(x, y) - surround.at(x, y)).abs())
}

fn difference(a: &Plane, b: &Plane) -> Plane {
    a.map(|x, y| (a.at(x, y) - b.at(x, y)).abs())
}

fn mean(p: &Plane) -> f32 {
    p.values.iter().sum::<f32>() / p.values.len().max(1) as f32
}

/// The cue relative to its frame average, so cues of different units weigh alike.
fn normalised(p: &Plane) -> Plane {
    let m = mean(p);
    if m <= f32::EPSILON {
        return p.map(|_, _| 0.0);
    }
    p.map(|x, y| p.at(x, y) / m)
}

fn sum(cues: &[Plane]) -> Plane {
    cues[0].map(|x, y| cues.iter().map(|c| c.at(x, y)).sum())
}

/// Averages a plane into the [`GRID`]×[`GRID`] cells that cover it.
fn pool(p: &Plane, width: usize, height: usize) -> Vec<f32> {
    let mut cells = vec![0.0f32; GRID * GRID];
    let mut counts = vec![0u32; GRID * GRID];
    for y in 0..height {
        for x in 0..width {
            let cell = (y * GRID / height) * GRID + x * GRID / width;
            cells[cell] += p.at(x, y);
            counts[cell] += 1;
        }
    }
    for (c, n) in cells.iter_mut().zip(counts) {
        if n > 0 {
            *c /= n as f32;
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat grey picture with a checkered square of `size` at (`x`, `y`).
    fn scene(w: usize, h: usize, x: usize, y: usize, size: usize) -> Gray {
        let mut px = vec![120u8; w * h];
        for j in y..(y + size).min(h) {
            for i in x..(x + size).min(w) {
                px[j * w + i] = if (i / 3 + j / 3) % 2 == 0 { 20 } else { 230 };
            }
        }
        Gray::new(w, h, px).unwrap()
    }

    fn window_centre(samples: &[(Gray, Option<Gray>)], w: f64, h: f64) -> (f64, f64) {
        interest(samples).best_window(w, h)
    }

    #[test]
    fn a_detailed_subject_on_a_plain_background_is_found() {
        // Subject at the right edge of a landscape frame; a third-wide window must hold it.
        let frame = scene(160, 90, 120, 30, 30);
        let (cx, _) = window_centre(&[(frame, None)], 1.0 / 3.0, 1.0);
        let (left, right) = (cx - 1.0 / 6.0, cx + 1.0 / 6.0);
        assert!(left <= 120.0 / 160.0 && right >= 150.0 / 160.0, "{cx}");
        // And at the top of a portrait one.
        let frame = scene(90, 160, 30, 5, 30);
        let (_, cy) = window_centre(&[(frame, None)], 1.0, 0.4);
        assert!(
            cy - 0.2 <= 5.0 / 160.0 + 0.05 && cy + 0.2 >= 35.0 / 160.0,
            "{cy}"
        );
    }

    #[test]
    fn motion_outweighs_static_detail() {
        // Static texture on the left; a plain square moving on the right.
        let base = scene(160, 90, 10, 30, 30);
        let mut later_px = base.pixels.clone();
        let mut now_px = base.pixels.clone();
        for j in 30..60 {
            for i in 115..145 {
                now_px[j * 160 + i] = 200;
                later_px[j * 160 + i + 5] = 200;
            }
        }
        let now = Gray::new(160, 90, now_px).unwrap();
        let later = Gray::new(160, 90, later_px).unwrap();
        let (cx, _) = window_centre(&[(now, Some(later))], 0.3, 1.0);
        assert!(cx > 0.6, "the moving subject wins: {cx}");
    }

    #[test]
    fn a_plain_picture_keeps_the_middle() {
        let flat = Gray::new(64, 64, vec![90; 64 * 64]).unwrap();
        assert_eq!(window_centre(&[(flat, None)], 0.5, 0.5), (0.5, 0.5));
    }
}
