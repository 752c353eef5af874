//! A picture of text (the Upload API's `text`): the text drawn with a bundled font on a
//! canvas of the size the caller measured, over a one-pixel picture of the background colour
//! stretched to that size; a PNG with transparency where the background is transparent.

use super::chain::Builder;
use super::layers::{escape_graph, escape_option, font_file};
use super::{Context, Plan, PlanError, output};
use crate::url::values::Color;

/// What to draw, and the canvas it fits.
#[derive(Debug, Clone, PartialEq)]
pub struct TextPicture {
    pub text: String,
    pub family: String,
    pub size: u32,
    pub bold: bool,
    pub italic: bool,
    pub color: Color,
    pub width: u32,
    pub height: u32,
}

impl TextPicture {
    /// The font file the text is drawn (and measured) with.
    pub fn font_file(&self, font_dir: &str) -> String {
        font_file(font_dir, &self.family, self.bold, self.italic)
    }
}

/// Plans `text` as a PNG; the context's base is the one-pixel background picture.
pub fn text_picture(text: &TextPicture, ctx: &Context) -> Result<Plan, PlanError> {
    Builder::new(ctx).text_picture(text)
}

impl Builder<'_> {
    fn text_picture(mut self, t: &TextPicture) -> Result<Plan, PlanError> {
        let max = self.ctx.max_dimension;
        if t.width == 0 || t.height == 0 || t.width > max || t.height > max {
            return Err(PlanError::Invalid(format!(
                "the text would be {}x{}, over the maximum of {max}",
                t.width, t.height
            )));
        }
        let format = output::format_of("png", false)?;
        self.kind = format.kind;
        let base_src = self.ctx.base.clone();
        let mut base = self.open(&base_src, false, false);
        let Some(v) = base.video.as_mut() else {
            return Err(PlanError::Invalid(
                "the background picture has no picture".into(),
            ));
        };
        let args = [
            format!("fontfile={}", t.font_file(&self.ctx.font_dir)),
            format!("text={}", escape_option(&t.text)),
            format!("fontsize={}", t.size),
            format!("fontcolor={}", t.color.to_ffmpeg()),
            "x=(w-tw)/2".into(),
            "y=(h-th)/2".into(),
            "expansion=none".into(),
        ];
        v.push(format!(
            "format=rgba,scale={}:{}:flags=neighbor",
            t.width, t.height
        ));
        v.push(format!("drawtext={}", escape_graph(&args.join(":"))));
        base.w = t.width;
        base.h = t.height;
        base.alpha = true;
        self.finish(base, &format, "png")
    }
}
