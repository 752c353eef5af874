//! A sprite (the Upload API's `sprite`): pictures stacked top to bottom on one transparent
//! canvas, each at its own size and left-aligned, as a PNG; the layout says where each went
//! (for the CSS and JSON that come with it).

use super::chain::Builder;
use super::sequence::MAX_PICTURES;
use super::{Context, Plan, PlanError, Source, output};

/// Where one picture sits on the sprite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// The layout of `pictures` and the plan that draws it.
pub fn sprite(pictures: &[Source], ctx: &Context) -> Result<(Plan, Vec<Placed>), PlanError> {
    if pictures.is_empty() || pictures.len() > MAX_PICTURES {
        return Err(PlanError::Invalid(format!(
            "a sprite has 1 to {MAX_PICTURES} pictures, not {}",
            pictures.len()
        )));
    }
    let mut placed = Vec::with_capacity(pictures.len());
    let (mut width, mut height) = (0u32, 0u32);
    for p in pictures {
        let (w, h) = (p.media.width.max(1), p.media.height.max(1));
        placed.push(Placed {
            x: 0,
            y: height,
            width: w,
            height: h,
        });
        width = width.max(w);
        height = height.saturating_add(h);
    }
    let max = ctx.max_dimension;
    if width > max || height > max {
        return Err(PlanError::TooLarge(format!(
            "the sprite would be {width}x{height}, over the maximum of {max}"
        )));
    }
    let plan = Builder::new(ctx).sprite(pictures, &placed, width, height)?;
    Ok((plan, placed))
}

impl Builder<'_> {
    fn sprite(
        mut self,
        pictures: &[Source],
        placed: &[Placed],
        width: u32,
        height: u32,
    ) -> Result<Plan, PlanError> {
        let format = output::format_of("png", false)?;
        self.kind = format.kind;
        let mut canvas: Option<(super::chain::Stream, String)> = None;
        for (picture, at) in pictures.iter().zip(placed) {
            let mut s = self.open(picture, false, true);
            let Some(mut v) = s.video.take() else {
                return Err(PlanError::Invalid(
                    "every picture of a sprite needs a picture".into(),
                ));
            };
            v.push("format=rgba");
            let label = self.flush(&mut v);
            canvas = Some(match canvas {
                None => {
                    let padded = self.label("v");
                    self.chains.push(format!(
                        "[{label}]pad={width}:{height}:0:0:color=white@0[{padded}]"
                    ));
                    (s, padded)
                }
                Some((base, under)) => {
                    let over = self.label("v");
                    self.chains.push(format!(
                        "[{under}][{label}]overlay={}:{}:format=auto[{over}]",
                        at.x, at.y
                    ));
                    (base, over)
                }
            });
        }
        let Some((mut base, label)) = canvas else {
            return Err(PlanError::Invalid("a sprite needs pictures".into()));
        };
        base.video = Some(super::chain::Track {
            label,
            pending: vec![],
            untouched: false,
            audio: false,
        });
        base.w = width;
        base.h = height;
        base.alpha = true;
        self.finish(base, &format, "png")
    }
}
