//! `e_trim`: the box inside a solid border, the border's colour being the top-left pixel's.

use super::Gray;

/// The smallest box (x, y, w, h) holding every pixel that differs from the top-left one by
/// more than `tolerance` (0–255); `None` when the whole picture is border.
pub fn content_box(g: &Gray, tolerance: u8) -> Option<(usize, usize, usize, usize)> {
    let border = g.at(0, 0);
    let differs = |x: usize, y: usize| g.at(x, y).abs_diff(border) > tolerance;
    let rows: Vec<usize> = (0..g.height)
        .filter(|&y| (0..g.width).any(|x| differs(x, y)))
        .collect();
    let (&top, &bottom) = (rows.first()?, rows.last()?);
    let left = (0..g.width).find(|&x| (top..=bottom).any(|y| differs(x, y)))?;
    let right = (0..g.width)
        .rev()
        .find(|&x| (top..=bottom).any(|y| differs(x, y)))?;
    Some((left, top, right - left + 1, bottom - top + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_border_is_cut_off() {
        let (w, h) = (20, 10);
        let mut px = vec![250u8; w * h];
        for y in 3..7 {
            for x in 5..12 {
                px[y * w + x] = 30;
            }
        }
        px[8 * w + 15] = 245; // within tolerance: still border
        let g = Gray::new(w, h, px).unwrap();
        assert_eq!(content_box(&g, 10), Some((5, 3, 7, 4)));
        assert_eq!(
            content_box(&Gray::new(4, 4, vec![9; 16]).unwrap(), 10),
            None
        );
    }
}
