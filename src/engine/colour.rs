//! Colour management for outputs that cannot carry a colour profile (AVIF, GIF, BMP, TIFF,
//! ICO, video): a picture with an embedded RGB ICC profile other than sRGB is converted to sRGB
//! as it is decoded, so it looks the same as its JPEG, PNG or WebP rendering (which keeps the
//! profile) instead of being shown as if its numbers were sRGB. libav 5.1 has no colour
//! management; qcms (Firefox's) does the conversion on packed RGB rows.

use ff::format::Pixel;
use ff::frame;
use ff::software::scaling;
use ffmpeg_next as ff;

/// Converts the frames of one picture input to sRGB.
pub(super) struct ToSrgb {
    scaler: scaling::Context,
    transform: qcms::Transform,
    format: Pixel,
    bytes_per_pixel: usize,
}

impl ToSrgb {
    /// A converter for frames like `first`, when it carries an RGB profile that is not sRGB.
    pub(super) fn for_frame(first: &frame::Video) -> Option<ToSrgb> {
        let side = first.side_data(frame::side_data::Type::IccProfile)?;
        let icc = side.data();
        if icc.get(16..20) != Some(b"RGB ".as_slice()) {
            return None;
        }
        let input = qcms::Profile::new_from_slice(icc, false)?;
        if input.is_sRGB() {
            return None;
        }
        let mut output = qcms::Profile::new_sRGB();
        output.precache_output_transform();
        let components = first.format().descriptor().map(|d| d.nb_components());
        // A palette may hold transparency (PNG's tRNS): keep an alpha channel for it too.
        let alpha = matches!(components, Some(2 | 4)) || first.format() == Pixel::PAL8;
        let (format, data_type, bytes_per_pixel) = if alpha {
            (Pixel::RGBA, qcms::DataType::RGBA8, 4)
        } else {
            (Pixel::RGB24, qcms::DataType::RGB8, 3)
        };
        let transform = qcms::Transform::new(&input, &output, data_type, qcms::Intent::Perceptual)?;
        let (w, h) = (first.width(), first.height());
        let scaler = scaling::Context::get(
            first.format(),
            w,
            h,
            format,
            w,
            h,
            scaling::Flags::BICUBIC | scaling::Flags::ACCURATE_RND | scaling::Flags::FULL_CHR_H_INT,
        )
        .ok()?;
        Some(ToSrgb {
            scaler,
            transform,
            format,
            bytes_per_pixel,
        })
    }

    /// The pixel format converted frames have (what the graph's buffer source is told).
    pub(super) fn format(&self) -> Pixel {
        self.format
    }

    /// `frame` in sRGB, packed RGB(A), with its timestamp.
    pub(super) fn convert(&mut self, frame: &frame::Video) -> Result<frame::Video, ff::Error> {
        let mut out = frame::Video::empty();
        self.scaler.run(frame, &mut out)?;
        let row = out.width() as usize * self.bytes_per_pixel;
        let (stride, rows) = (out.stride(0), out.height() as usize);
        let data = out.data_mut(0);
        for y in 0..rows {
            if let Some(pixels) = data.get_mut(y * stride..y * stride + row) {
                self.transform.apply(pixels);
            }
        }
        out.set_pts(frame.pts());
        Ok(out)
    }
}
