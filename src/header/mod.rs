//! What the first bytes of a picture file say, read without decoding anything: its size (so
//! a decompression bomb is refused before a decoder allocates it) and its EXIF orientation
//! (which libav does not apply). Pure: bytes in, facts out; malformed input is `None`.

mod exif;
mod size;

pub use exif::{orientation, orientation_in, tiff_directory};
pub use size::dimensions;
