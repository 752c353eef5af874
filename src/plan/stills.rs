//! What pictures need beyond video: transparent, anti-aliased rounded corners (`r_` with one
//! to four radii or `max`), borders that follow those corners (`bo_`), flattening onto a
//! background for formats without alpha, and picking one page of an animation (`pg_`).
//!
//! Corners and borders are `geq` expressions over planar RGBA: a coverage value (0..1) per
//! pixel from the distance to the rounded outline, so edges are smooth rather than stepped.

use super::chain::{Builder, Params, Stream, num, request};
use super::{PlanError, Region, geometry};
use crate::url::Step;
use crate::url::values::{Border, Color, Crop, Gravity, Radius};

/// The rounded outline a picture has been given (used again by a later border).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Corners {
    /// Top-left, top-right, bottom-right, bottom-left radii in pixels.
    Radii([u32; 4]),
    /// An ellipse touching every side (`r_max`).
    Max,
}

impl Corners {
    /// The corners of `r_`: one radius for all, two (TL/BR, TR/BL), three (TL, TR/BL, BR) or four.
    pub(super) fn of(r: &Radius) -> Result<Corners, PlanError> {
        Ok(match r {
            Radius::Max => Corners::Max,
            Radius::Pixels(v) => Corners::Radii(match v.as_slice() {
                [a] => [*a; 4],
                [a, b] => [*a, *b, *a, *b],
                [a, b, c] => [*a, *b, *c, *b],
                [a, b, c, d] => [*a, *b, *c, *d],
                _ => return Err(PlanError::Invalid("r_ takes one to four radii".into())),
            }),
        })
    }

    fn grown(self, by: u32) -> Corners {
        match self {
            Corners::Radii(r) => Corners::Radii(r.map(|x| if x == 0 { 0 } else { x + by })),
            Corners::Max => Corners::Max,
        }
    }

    /// A `geq` expression (commas unescaped) for how much of pixel (X, Y) lies inside this
    /// outline drawn on a `w`×`h` rectangle whose top-left corner is at (`off`, `off`):
    /// 1 inside, 0 outside, a fraction on the edge. Parenthesised, since `;` binds loosest.
    fn coverage(self, off: u32, w: u32, h: u32) -> String {
        let inside = match self {
            Corners::Max => format!(
                "clip((1-hypot((ld(3)+0.5-{hw})/{hw},(ld(4)+0.5-{hh})/{hh}))*{r}+0.5,0,1)",
                hw = num(f64::from(w) / 2.0),
                hh = num(f64::from(h) / 2.0),
                r = num(f64::from(w.min(h)) / 2.0)
            ),
            Corners::Radii(r) => {
                let limit = w.min(h) / 2;
                let [tl, tr, br, bl] = r.map(|x| x.min(limit));
                let (hw, hh) = (num(f64::from(w) / 2.0), num(f64::from(h) / 2.0));
                format!(
                    "st(0,if(lt(ld(3),{hw}),if(lt(ld(4),{hh}),{tl},{bl}),if(lt(ld(4),{hh}),{tr},{br})));\
                     st(1,max(max(ld(0)-ld(3)-0.5,ld(3)+0.5-{w}+ld(0)),0));\
                     st(2,max(max(ld(0)-ld(4)-0.5,ld(4)+0.5-{h}+ld(0)),0));\
                     if(gt(ld(1),0)*gt(ld(2),0),clip(ld(0)-hypot(ld(1),ld(2))+0.5,0,1),1)"
                )
            }
        };
        format!(
            "(st(3,X-{off});st(4,Y-{off});\
             if(lt(ld(3),0)+lt(ld(4),0)+gte(ld(3),{w})+gte(ld(4),{h}),0,{inside}))"
        )
    }
}

/// Escapes a `geq` option value for a filter graph.
fn graph_text(expr: &str) -> String {
    expr.replace(',', "\\,").replace(';', "\\;")
}

impl Builder<'_> {
    /// Rounds the corners by making them transparent.
    pub(super) fn transparent_corners(
        &mut self,
        s: &mut Stream,
        r: &Radius,
    ) -> Result<(), PlanError> {
        let corners = Corners::of(r)?;
        let Some(v) = s.video.as_mut() else {
            return Ok(());
        };
        let cover = corners.coverage(0, s.w, s.h);
        v.push(format!(
            "format=gbrap,geq=r=r(X\\,Y):g=g(X\\,Y):b=b(X\\,Y):a={}",
            graph_text(&format!("alpha(X,Y)*{cover}"))
        ));
        s.alpha = true;
        s.corners = Some(corners);
        Ok(())
    }

    /// Draws a border of `b.width` pixels around the picture, following rounded corners.
    pub(super) fn border(&mut self, s: &mut Stream, b: Border) -> Result<(), PlanError> {
        let Some(v) = s.video.as_mut() else {
            return Ok(());
        };
        let (w, h) = (s.w + 2 * b.width, s.h + 2 * b.width);
        if w > self.ctx.max_dimension || h > self.ctx.max_dimension {
            return Err(PlanError::TooLarge(format!(
                "the border makes the picture {w}x{h}, over the maximum of {} pixels a side",
                self.ctx.max_dimension
            )));
        }
        let c = b.color;
        match s.corners {
            None if !s.alpha => {
                v.push(format!(
                    "pad={w}:{h}:{0}:{0}:color={1}",
                    b.width,
                    c.to_ffmpeg()
                ));
            }
            corners => {
                // The ring between the picture's outline and the same outline grown by the
                // border width; transparent parts of the picture stay transparent.
                let inner = corners.unwrap_or(Corners::Radii([0; 4]));
                let outline = inner.grown(b.width);
                let ring = format!(
                    "{}*(1-{})",
                    outline.coverage(0, w, h),
                    inner.coverage(b.width, s.w, s.h)
                );
                let a = "alpha(X,Y)/255";
                let channel =
                    |name: &str, value: u8| graph_text(&format!("{name}(X,Y)*{a}+{value}*(1-{a})"));
                v.push(format!(
                    "format=gbrap,pad={w}:{h}:{0}:{0}:color=0x00000000,geq=r={1}:g={2}:b={3}:a={4}",
                    b.width,
                    channel("r", c.r),
                    channel("g", c.g),
                    channel("b", c.b),
                    graph_text(&format!(
                        "alpha(X,Y)+(255-alpha(X,Y))*{}*{ring}",
                        num(f64::from(c.a) / 255.0)
                    ))
                ));
                s.alpha = true;
                s.corners = Some(outline);
            }
        }
        (s.w, s.h) = (w, h);
        s.whole_frame = false;
        Ok(())
    }

    /// Lays a picture with transparency onto an opaque `background` (for JPEG and friends).
    pub(super) fn flatten(&mut self, s: &mut Stream, background: Color) {
        let Some(mut v) = s.video.take() else { return };
        let fg = self.flush(&mut v);
        let bg = self.label("v");
        let opaque = Color {
            a: 255,
            ..background
        };
        self.chains.push(format!(
            "color=c={}:s={}x{}:r={}[{bg}]",
            opaque.to_ffmpeg(),
            s.w,
            s.h,
            num(s.fps.max(1.0))
        ));
        s.video = Some(self.join(
            &[bg, fg],
            "overlay=shortest=1:format=auto:eof_action=endall",
            false,
        ));
        s.alpha = false;
    }

    /// The face `g_face` aims at (the largest) or the box around all of them for `g_faces`.
    pub(super) fn face_box(&self, g: Gravity) -> Option<Region> {
        match g {
            Gravity::Face => self.ctx.faces.first().copied(),
            Gravity::Faces => Region::union(&self.ctx.faces),
            _ => None,
        }
    }

    /// `e_blur_faces` / `e_pixelate_faces`: each face's box is cut out, blurred or pixelated,
    /// and laid back in place. Faces are known on the whole source frame only.
    pub(super) fn hide_faces(
        &mut self,
        s: &mut Stream,
        pixelate: Option<u32>,
        blur: u32,
    ) -> Result<(), PlanError> {
        if !s.whole_frame || s.is_layer {
            return Err(PlanError::Unsupported(
                "e_blur_faces and e_pixelate_faces must come before any crop, pad or rotation"
                    .into(),
            ));
        }
        let boxes: Vec<(u32, u32, u32, u32)> = self
            .ctx
            .faces
            .iter()
            .map(|f| {
                let (fw, fh) = (f64::from(s.w), f64::from(s.h));
                let x = (f.x * fw).round().clamp(0.0, (fw - 2.0).max(0.0)) as u32;
                let y = (f.y * fh).round().clamp(0.0, (fh - 2.0).max(0.0)) as u32;
                let w = ((f.w * fw).round() as u32).min(s.w.saturating_sub(x));
                let h = ((f.h * fh).round() as u32).min(s.h.saturating_sub(y));
                (x, y, w, h)
            })
            .filter(|b| b.2 >= 2 && b.3 >= 2)
            .collect();
        let Some(mut v) = s.video.take().filter(|_| !boxes.is_empty()) else {
            return Ok(());
        };
        let parts = self.split(&mut v, boxes.len() + 1);
        let mut base = parts[0].clone();
        let mut current = None;
        for ((x, y, w, h), part) in boxes.into_iter().zip(&parts[1..]) {
            let hidden = match pixelate {
                Some(n) => format!(
                    "scale={}:{}:flags=area,scale={w}:{h}:flags=neighbor",
                    (w / n.max(1)).max(1),
                    (h / n.max(1)).max(1)
                ),
                None => {
                    // boxblur's radius must fit the (half-size) chroma planes too.
                    let radius = (f64::from(w.min(h)) / 4.0 - 1.0)
                        .min(f64::from(blur) / 20.0)
                        .max(1.0);
                    format!("boxblur={}:2", num(radius.floor()))
                }
            };
            let face = self.label("v");
            self.chains
                .push(format!("[{part}]crop={w}:{h}:{x}:{y},{hidden}[{face}]"));
            let mut joined = self.join(
                &[base, face],
                &format!("overlay={x}:{y}:format=auto"),
                false,
            );
            base = self.flush(&mut joined);
            current = Some(joined);
        }
        s.video = current;
        Ok(())
    }

    /// Shrink-on-load: when the first component only makes the picture smaller (a resize with
    /// no pixel offsets), decode a JPEG at the smallest 1/2^n size still at least as big as
    /// what the resize needs.
    pub(super) fn shrink_on_load(&mut self, s: &mut Stream, steps: &[Step]) {
        let m = &self.ctx.base.media;
        let Some(Step::Apply(first)) = steps.first() else {
            return;
        };
        if !m.shrinkable || !s.image {
            return;
        }
        let Ok(p) = Params::of(first) else { return };
        let offsets = p.x.is_some() || p.y.is_some();
        let mode = p.crop.unwrap_or(Crop::Scale);
        if offsets || matches!(mode, Crop::Crop) || p.width.is_none() && p.height.is_none() {
            return;
        }
        let req = request(s, &p);
        let r = geometry::resolve((s.w, s.h), &req, false);
        let needed = r.scale.unwrap_or(r.out);
        let shrink = (1..=3u8)
            .rev()
            .find(|n| {
                let (w, h) = (s.w.div_ceil(1 << n), s.h.div_ceil(1 << n));
                w >= needed.0 && h >= needed.1
            })
            .unwrap_or(0);
        if shrink > 0 {
            self.inputs[s.input].shrink = shrink;
            s.w = s.w.div_ceil(1 << shrink);
            s.h = s.h.div_ceil(1 << shrink);
        }
    }

    /// `e_trim`: crops to what the analysis found inside the solid border.
    pub(super) fn trim_border(&mut self, s: &mut Stream) -> Result<(), PlanError> {
        if !s.whole_frame || s.is_layer {
            return Err(PlanError::Unsupported(
                "e_trim must come before any crop, pad or rotation".into(),
            ));
        }
        let (Some(r), Some(v)) = (self.ctx.trim, s.video.as_mut()) else {
            return Ok(());
        };
        let (fw, fh) = (f64::from(s.w), f64::from(s.h));
        let x = ((r.x * fw).floor() as u32).min(s.w.saturating_sub(1));
        let y = ((r.y * fh).floor() as u32).min(s.h.saturating_sub(1));
        let w = ((r.w * fw).ceil() as u32).clamp(1, s.w - x);
        let h = ((r.h * fh).ceil() as u32).clamp(1, s.h - y);
        if (w, h) != (s.w, s.h) {
            v.push(format!("crop={w}:{h}:{x}:{y}"));
            (s.w, s.h) = (w, h);
            s.whole_frame = false;
        }
        Ok(())
    }

    /// Keeps only page `n` (1-based) of an animated or multi-page picture.
    pub(super) fn page(&mut self, s: &mut Stream, n: u32) -> Result<(), PlanError> {
        let frames = (s.duration * s.fps).round().max(1.0) as u32;
        if n == 0 || n > frames {
            return Err(PlanError::Invalid(format!(
                "pg_{n}: the picture has {frames} page{}",
                if frames == 1 { "" } else { "s" }
            )));
        }
        if let Some(v) = s.video.as_mut() {
            v.push(format!("select=eq(n\\,{}),setpts=PTS-STARTPTS", n - 1));
        }
        s.duration = 0.0;
        s.at_source = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radii_lists_expand_to_four_corners() {
        let c = |v: &[u32]| Corners::of(&Radius::Pixels(v.to_vec())).unwrap();
        assert_eq!(c(&[5]), Corners::Radii([5, 5, 5, 5]));
        assert_eq!(c(&[5, 9]), Corners::Radii([5, 9, 5, 9]));
        assert_eq!(c(&[5, 9, 2]), Corners::Radii([5, 9, 2, 9]));
        assert_eq!(c(&[1, 2, 3, 4]), Corners::Radii([1, 2, 3, 4]));
        assert_eq!(
            Corners::Radii([0, 3, 0, 3]).grown(2),
            Corners::Radii([0, 5, 0, 5])
        );
    }
}
