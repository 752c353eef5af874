//! `text`: a picture of a text (type `text`), drawn by the engine with a bundled font on a
//! canvas sized by measuring the text with that font's own advances and heights.

use super::transform::{FONT_DIR, blocking};
use super::upload::{Placing, UploadType};
use super::{Kino, ServiceError};
use crate::catalog::Asset;
use crate::params::Params;
use crate::plan::text_picture::{TextPicture, text_picture};
use crate::plan::{Media, Source};
use crate::url::DeliveryType;
use crate::url::values::Color;

/// What `text` draws.
#[derive(Debug, Clone)]
pub struct TextRequest {
    pub text: String,
    pub public_id: Option<String>,
    pub family: String,
    pub size: u32,
    pub bold: bool,
    pub italic: bool,
    pub color: Color,
    /// Transparent when `None`.
    pub background: Option<Color>,
}

/// The longest text one picture holds.
const MAX_TEXT_CHARS: usize = 1000;

impl Kino {
    /// Draws `request` and keeps the picture as an asset of type `text`.
    pub async fn text_picture(
        &self,
        cloud: &str,
        request: &TextRequest,
    ) -> Result<Asset, ServiceError> {
        let chars = request.text.chars().count();
        if chars == 0 || chars > MAX_TEXT_CHARS {
            return Err(ServiceError::BadInput(format!(
                "The text has {chars} characters; give 1 to {MAX_TEXT_CHARS}"
            )));
        }
        if !(1..=500).contains(&request.size) {
            return Err(ServiceError::BadInput(format!(
                "Invalid font_size {}: 1 to 500",
                request.size
            )));
        }
        let mut picture = TextPicture {
            text: request.text.clone(),
            family: request.family.clone(),
            size: request.size,
            bold: request.bold,
            italic: request.italic,
            color: request.color,
            width: 0,
            height: 0,
        };
        let font = picture.font_file(FONT_DIR);
        let (text, size) = (request.text.clone(), request.size);
        (picture.width, picture.height) = blocking(move || measure(&font, &text, size)).await?;
        let background = self.background_pixel(request.background).await?;
        let ctx = self.plain_context(Source {
            path: background.path().to_string_lossy().into_owned(),
            media: Media {
                width: 1,
                height: 1,
                duration: 0.0,
                fps: 0.0,
                has_video: true,
                has_audio: false,
                sample_rate: 0,
                image: true,
                alpha: true,
                shrinkable: false,
                lossless: true,
                orientation: 1,
            },
        });
        let plan = text_picture(&picture, &ctx)?;
        let made = self.run_to_staging(plan).await?;
        drop(background);
        let (resource_type, media) = self.classify(UploadType::Image, &made, Some("png")).await?;
        let public_id = match &request.public_id {
            Some(p) if !p.is_empty() => p.clone(),
            _ => crate::ids::hex32()[..20].to_string(),
        };
        crate::url::validate_public_id(&public_id)?;
        let placing = Placing {
            cloud,
            resource_type,
            delivery_type: DeliveryType::Text,
            public_id,
            overwrite: true,
            media,
            original_name: None,
            format: None,
        };
        Ok(self.place(placing, made, &Params::new()).await?.asset)
    }

    /// A one-pixel PNG of the background colour in the staging area.
    async fn background_pixel(
        &self,
        color: Option<Color>,
    ) -> Result<crate::store::StagedFile, ServiceError> {
        let c = color.unwrap_or(Color {
            r: 255,
            g: 255,
            b: 255,
            a: 0,
        });
        let png = one_pixel_png([c.r, c.g, c.b, c.a]);
        let mut file = self.staging.create(png.len() as u64).await?;
        file.write(&png).await?;
        file.finish().await?;
        Ok(file)
    }
}

/// A 1×1 RGBA PNG of `rgba` (its zlib data one stored block).
fn one_pixel_png(rgba: [u8; 4]) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    // One row: filter byte 0, then the pixel.
    let raw = [0, rgba[0], rgba[1], rgba[2], rgba[3]];
    let (mut a, mut b) = (1u32, 0u32);
    for byte in raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    let mut zlib = vec![0x78, 0x01, 0x01, 5, 0, 0xfa, 0xff];
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    // 1×1, 8 bits, colour type 6 (RGBA).
    chunk(&mut png, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// The size `text` takes in the font at `size` pixels: the widest line's advances, and the
/// font's line height for each line.
fn measure(font: &str, text: &str, size: u32) -> std::io::Result<(u32, u32)> {
    let bytes = std::fs::read(font)?;
    let face = ttf_parser::Face::parse(&bytes, 0).map_err(std::io::Error::other)?;
    let scale = f64::from(size) / f64::from(face.units_per_em().max(1));
    let line_height = f64::from(face.ascender()) - f64::from(face.descender());
    let lines: Vec<&str> = text.split('\n').collect();
    let widest = lines
        .iter()
        .map(|line| {
            line.chars()
                .map(|c| {
                    let glyph = face.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0));
                    f64::from(face.glyph_hor_advance(glyph).unwrap_or(0))
                })
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    let width = (widest * scale).ceil().max(1.0) as u32;
    let height = (line_height * scale * lines.len() as f64).ceil().max(1.0) as u32;
    Ok((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wider_text_measures_wider_and_lines_stack() {
        let font = format!("{FONT_DIR}/DejaVuSans.ttf");
        let (w1, h1) = measure(&font, "iii", 40).unwrap();
        let (w2, h2) = measure(&font, "WWW", 40).unwrap();
        assert!(w2 > 2 * w1, "{w1} {w2}");
        assert_eq!(h1, h2);
        assert!((40..=60).contains(&h1), "{h1}");
        let (w3, h3) = measure(&font, "WWW\ni", 40).unwrap();
        assert_eq!(w3, w2, "the widest line");
        assert!((2 * h1 - 1..=2 * h1).contains(&h3), "{h1} {h3}");
    }
}
