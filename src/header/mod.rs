//! What the first bytes of a picture file say, read without decoding anything: its size (so
//! a decompression bomb is refused before a decoder allocates it) and its EXIF orientation
//! (which libav does not apply); and one patch libav leaves to us, a WebP's colour profile.
//! Pure: bytes in, bytes or facts out; malformed input is `None`.

mod exif;
mod size;
mod webp_icc;

pub use exif::{orientation, orientation_in, tiff_directory};
pub use size::{dimensions, is_animated_webp, is_avif, is_heif};
pub use webp_icc::webp_with_icc;
