//! Orientation: how a decoded picture must be turned (and mirrored) to be shown upright, in
//! EXIF's numbering (1 = as stored … 8), which also covers video's display rotation.

/// The EXIF orientation of a clockwise display rotation (0, 90, 180, 270).
pub fn from_rotation(degrees: i32) -> u8 {
    match degrees.rem_euclid(360) {
        90 => 6,
        180 => 3,
        270 => 8,
        _ => 1,
    }
}

/// The filters that make a picture of `orientation` upright.
pub fn filters(orientation: u8) -> Option<&'static str> {
    match orientation {
        2 => Some("hflip"),
        3 => Some("hflip,vflip"),
        4 => Some("vflip"),
        5 => Some("transpose=cclock_flip"),
        6 => Some("transpose=clock"),
        7 => Some("transpose=clock_flip"),
        8 => Some("transpose=cclock"),
        _ => None,
    }
}

/// Whether showing it upright swaps width and height.
pub fn swaps_axes(orientation: u8) -> bool {
    (5..=8).contains(&orientation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotations_and_mirrors() {
        assert_eq!(from_rotation(90), 6);
        assert_eq!(from_rotation(-90), 8);
        assert_eq!(from_rotation(180), 3);
        assert_eq!(from_rotation(0), 1);
        assert_eq!(filters(1), None);
        assert_eq!(filters(6), Some("transpose=clock"));
        assert!(swaps_axes(5) && swaps_axes(8) && !swaps_axes(4));
    }
}
