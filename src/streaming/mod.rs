//! Adaptive streaming: streaming profiles (the built-in ones are data in `profiles/`), the
//! ladder a source gets from a profile and the segment timeline its renditions share, and the
//! HLS playlists and the DASH MPD. Segments and the delivery routes come next.

pub mod dash;
pub mod fmp4;
pub mod hls;
pub mod ladder;
pub mod llhls;
pub mod profiles;
pub mod segment;
