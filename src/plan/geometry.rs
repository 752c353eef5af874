//! Crop and resize modes as arithmetic: source size + request → scale, crop and pad boxes.
//!
//! Pure and exhaustively table-tested; `chain` turns the result into `scale`/`crop`/`pad`
//! filters. Sizes are rounded to even numbers when the output is 4:2:0 video.

use crate::url::values::{Crop, Gravity};

/// A width/height request in pixels (fractions already resolved by the caller).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    pub width: Option<f64>,
    pub height: Option<f64>,
    pub aspect_ratio: Option<f64>,
    pub crop: Option<Crop>,
    pub gravity: Gravity,
    pub x: Option<f64>,
    pub y: Option<f64>,
}

/// A rectangle: size and top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub w: u32,
    pub h: u32,
    pub x: u32,
    pub y: u32,
}

/// What to do, in order: scale to `scale`, then cut `crop` out of it, then put the result on
/// a `pad` canvas (`pad.x`/`pad.y` place the content).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resize {
    pub scale: Option<(u32, u32)>,
    pub crop: Option<Rect>,
    pub pad: Option<Rect>,
    pub out: (u32, u32),
}

/// A side length in pixels: rounded, and to an even number ≥ 2 for 4:2:0 output.
pub(super) fn dim(v: f64, even: bool) -> u32 {
    if even {
        ((v / 2.0).round() as u32 * 2).max(2)
    } else {
        (v.round() as u32).max(1)
    }
}

/// Anchor fractions of a gravity (0 = left/top, 1 = right/bottom); detectors anchor centre.
pub fn anchor(g: Gravity) -> (f64, f64) {
    match g {
        Gravity::NorthWest => (0.0, 0.0),
        Gravity::North => (0.5, 0.0),
        Gravity::NorthEast => (1.0, 0.0),
        Gravity::West => (0.0, 0.5),
        Gravity::East => (1.0, 0.5),
        Gravity::SouthWest => (0.0, 1.0),
        Gravity::South => (0.5, 1.0),
        Gravity::SouthEast => (1.0, 1.0),
        _ => (0.5, 0.5),
    }
}

/// Where a box of `inner` size goes inside `outer` for a gravity, with `x`/`y` nudges.
fn place(outer: (u32, u32), inner: (u32, u32), g: Gravity, x: f64, y: f64) -> (u32, u32) {
    let free_w = f64::from(outer.0.saturating_sub(inner.0));
    let free_h = f64::from(outer.1.saturating_sub(inner.1));
    let (fx, fy) = anchor(g);
    // Nudges move away from the anchored edge (east/south anchors count from the far side).
    let dx = if fx == 1.0 { -x } else { x };
    let dy = if fy == 1.0 { -y } else { y };
    let px = (free_w * fx + dx).clamp(0.0, free_w);
    let py = (free_h * fy + dy).clamp(0.0, free_h);
    (px.round() as u32, py.round() as u32)
}

/// The requested box: both sides from width, height and aspect ratio, falling back to the
/// source's proportions (or to the largest box of the ratio inside the source).
fn target(src: (f64, f64), r: &Request) -> (f64, f64) {
    match (r.width, r.height, r.aspect_ratio) {
        (Some(w), Some(h), _) => (w, h),
        (Some(w), None, Some(ar)) => (w, w / ar),
        (None, Some(h), Some(ar)) => (h * ar, h),
        (Some(w), None, None) => (w, w * src.1 / src.0),
        (None, Some(h), None) => (h * src.0 / src.1, h),
        (None, None, Some(ar)) if src.0 / src.1 > ar => (src.1 * ar, src.1),
        (None, None, Some(ar)) => (src.0, src.0 / ar),
        (None, None, None) => src,
    }
}

/// Resolves a request against a source of `src` pixels.
pub fn resolve(src: (u32, u32), r: &Request, even: bool) -> Resize {
    let s = (f64::from(src.0.max(1)), f64::from(src.1.max(1)));
    let asked = r.width.is_some() || r.height.is_some() || r.aspect_ratio.is_some();
    let mode = r.crop.unwrap_or(Crop::Scale);
    if !asked {
        let out = (dim(s.0, even), dim(s.1, even));
        let scale = (out != src).then_some(out);
        return Resize {
            scale,
            crop: None,
            pad: None,
            out,
        };
    }
    let t = target(s, r);
    let fit = (t.0 / s.0).min(t.1 / s.1);
    let cover = (t.0 / s.0).max(t.1 / s.1);
    let scaled = |f: f64| (dim(s.0 * f, even), dim(s.1 * f, even));
    let just = |size: (u32, u32)| Resize {
        scale: (size != src).then_some(size),
        crop: None,
        pad: None,
        out: size,
    };
    let (x, y) = (r.x.unwrap_or(0.0), r.y.unwrap_or(0.0));
    match mode {
        Crop::Scale => just((dim(t.0, even), dim(t.1, even))),
        Crop::Fit => just(scaled(fit)),
        Crop::Limit => just(scaled(fit.min(1.0))),
        Crop::Mfit => just(scaled(fit.max(1.0))),
        Crop::Fill | Crop::Thumb | Crop::Auto => fill(src, scaled(cover), t, r.gravity, x, y, even),
        Crop::Lfill if cover <= 1.0 => fill(src, scaled(cover), t, r.gravity, x, y, even),
        Crop::Lfill => {
            // Never upscale: cut the largest box of the requested shape out of the source.
            let ar = t.0 / t.1;
            let bx = if s.0 / s.1 > ar {
                (s.1 * ar, s.1)
            } else {
                (s.0, s.0 / ar)
            };
            fill(src, src, bx, r.gravity, x, y, even)
        }
        Crop::Pad | Crop::FillPad | Crop::AutoPad => pad(scaled(fit), t, r.gravity, src, even),
        Crop::Lpad => pad(scaled(fit.min(1.0)), t, r.gravity, src, even),
        Crop::Mpad if fit < 1.0 => just(scaled(1.0)),
        Crop::Mpad => pad(scaled(fit), t, r.gravity, src, even),
        Crop::Crop => {
            let w = dim(t.0.min(s.0), even).min(src.0);
            let h = dim(t.1.min(s.1), even).min(src.1);
            let (cx, cy) = match (r.gravity, r.x, r.y) {
                (Gravity::XyCenter, _, _) => (
                    (x - f64::from(w) / 2.0).clamp(0.0, f64::from(src.0 - w)) as u32,
                    (y - f64::from(h) / 2.0).clamp(0.0, f64::from(src.1 - h)) as u32,
                ),
                // Explicit coordinates without a compass gravity: the top-left corner.
                (Gravity::Center, Some(_), _) | (Gravity::Center, _, Some(_)) => (
                    (x.max(0.0) as u32).min(src.0 - w),
                    (y.max(0.0) as u32).min(src.1 - h),
                ),
                (g, _, _) => place(src, (w, h), g, x, y),
            };
            Resize {
                scale: None,
                crop: Some(Rect { w, h, x: cx, y: cy }),
                pad: None,
                out: (w, h),
            }
        }
    }
}

/// Moves a crop to the window `best` picks: given the window's size as fractions of the
/// picture it is cut from, `best` answers the centre (fractions) it should have.
pub fn refocus(r: &mut Resize, src: (u32, u32), best: impl Fn(f64, f64) -> (f64, f64)) {
    let Some(crop) = r.crop.as_mut() else { return };
    let (sw, sh) = r.scale.unwrap_or(src);
    let (fw, fh) = (f64::from(sw.max(1)), f64::from(sh.max(1)));
    let (cx, cy) = best(f64::from(crop.w) / fw, f64::from(crop.h) / fh);
    let at = |centre: f64, full: f64, len: u32| {
        (centre * full - f64::from(len) / 2.0)
            .clamp(0.0, (full - f64::from(len)).max(0.0))
            .round() as u32
    };
    crop.x = at(cx, fw, crop.w);
    crop.y = at(cy, fh, crop.h);
}

/// `c_thumb` around a face box (`face`: x, y, w, h in source pixels): a region of the
/// target's shape about twice the face's size (divided by `zoom`), centred on the face and
/// kept inside the picture, scaled to the target `t`.
pub fn thumb(
    src: (u32, u32),
    t: (f64, f64),
    face: (f64, f64, f64, f64),
    zoom: f64,
    even: bool,
) -> Resize {
    let (sw, sh) = (f64::from(src.0.max(1)), f64::from(src.1.max(1)));
    let ar = t.0 / t.1;
    let (fx, fy, fw, fh) = face;
    let mut w = (fw * 2.0).max(fh * 2.0 * ar) / zoom.max(0.01);
    let mut h = w / ar;
    // Too big for the picture: the largest region of that shape that fits.
    let fit = (sw / w).min(sh / h).min(1.0);
    w *= fit;
    h *= fit;
    // (`max` guards against rounding leaving a hair's breadth below zero.)
    let x = (fx + fw / 2.0 - w / 2.0).clamp(0.0, (sw - w).max(0.0));
    let y = (fy + fh / 2.0 - h / 2.0).clamp(0.0, (sh - h).max(0.0));
    let (ow, oh) = (dim(t.0, even), dim(t.1, even));
    let k = f64::from(ow) / w;
    let scaled = (dim(sw * k, even).max(ow), dim(sh * k, even).max(oh));
    let crop = Rect {
        w: ow,
        h: oh,
        x: ((x * k).round() as u32).min(scaled.0 - ow),
        y: ((y * k).round() as u32).min(scaled.1 - oh),
    };
    Resize {
        scale: (scaled != src).then_some(scaled),
        crop: ((ow, oh) != scaled).then_some(crop),
        pad: None,
        out: (ow, oh),
    }
}

fn fill(
    src: (u32, u32),
    scaled: (u32, u32),
    t: (f64, f64),
    g: Gravity,
    x: f64,
    y: f64,
    even: bool,
) -> Resize {
    let w = dim(t.0, even).min(scaled.0);
    let h = dim(t.1, even).min(scaled.1);
    let (cx, cy) = place(scaled, (w, h), g, x, y);
    Resize {
        scale: (scaled != src).then_some(scaled),
        crop: ((w, h) != scaled).then_some(Rect { w, h, x: cx, y: cy }),
        pad: None,
        out: (w, h),
    }
}

fn pad(scaled: (u32, u32), t: (f64, f64), g: Gravity, src: (u32, u32), even: bool) -> Resize {
    let w = dim(t.0, even).max(scaled.0);
    let h = dim(t.1, even).max(scaled.1);
    let (px, py) = place((w, h), scaled, g, 0.0, 0.0);
    Resize {
        scale: (scaled != src).then_some(scaled),
        crop: None,
        pad: ((w, h) != scaled).then_some(Rect { w, h, x: px, y: py }),
        out: (w, h),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(crop: Crop, w: Option<f64>, h: Option<f64>) -> Request {
        Request {
            width: w,
            height: h,
            aspect_ratio: None,
            crop: Some(crop),
            gravity: Gravity::Center,
            x: None,
            y: None,
        }
    }

    fn show(r: Resize) -> String {
        let rect =
            |r: Option<Rect>| r.map_or("-".into(), |r| format!("{}x{}+{}+{}", r.w, r.h, r.x, r.y));
        let scale = r.scale.map_or("-".into(), |(w, h)| format!("{w}x{h}"));
        format!(
            "scale={scale} crop={} pad={} out={}x{}",
            rect(r.crop),
            rect(r.pad),
            r.out.0,
            r.out.1
        )
    }

    type Case = (Crop, (u32, u32), Option<f64>, Option<f64>, &'static str);

    /// Every crop mode, on a landscape 1280x720 and a portrait 720x1280 source.
    #[test]
    #[allow(clippy::too_many_lines)]
    fn crop_modes() {
        use Crop::{Fill, FillPad, Fit, Lfill, Limit, Lpad, Mfit, Mpad, Pad, Scale, Thumb};
        let cases: &[Case] = &[
            (
                Scale,
                (1280, 720),
                Some(640.0),
                None,
                "scale=640x360 crop=- pad=- out=640x360",
            ),
            (
                Scale,
                (1280, 720),
                Some(300.0),
                Some(300.0),
                "scale=300x300 crop=- pad=- out=300x300",
            ),
            (
                Fit,
                (1280, 720),
                Some(300.0),
                Some(300.0),
                "scale=300x168 crop=- pad=- out=300x168",
            ),
            (
                Fit,
                (720, 1280),
                Some(300.0),
                Some(300.0),
                "scale=168x300 crop=- pad=- out=168x300",
            ),
            (
                Limit,
                (1280, 720),
                Some(2000.0),
                Some(2000.0),
                "scale=- crop=- pad=- out=1280x720",
            ),
            (
                Limit,
                (1280, 720),
                Some(640.0),
                Some(640.0),
                "scale=640x360 crop=- pad=- out=640x360",
            ),
            (
                Mfit,
                (1280, 720),
                Some(640.0),
                Some(640.0),
                "scale=- crop=- pad=- out=1280x720",
            ),
            (
                Mfit,
                (320, 180),
                Some(640.0),
                Some(640.0),
                "scale=640x360 crop=- pad=- out=640x360",
            ),
            (
                Fill,
                (1280, 720),
                Some(300.0),
                Some(300.0),
                "scale=534x300 crop=300x300+117+0 pad=- out=300x300",
            ),
            (
                Fill,
                (720, 1280),
                Some(480.0),
                Some(320.0),
                "scale=480x854 crop=480x320+0+267 pad=- out=480x320",
            ),
            (
                Lfill,
                (1280, 720),
                Some(300.0),
                Some(300.0),
                "scale=534x300 crop=300x300+117+0 pad=- out=300x300",
            ),
            (
                Lfill,
                (320, 180),
                Some(640.0),
                Some(640.0),
                "scale=- crop=180x180+70+0 pad=- out=180x180",
            ),
            (
                Pad,
                (720, 1280),
                Some(480.0),
                Some(320.0),
                "scale=180x320 crop=- pad=480x320+150+0 out=480x320",
            ),
            (
                Pad,
                (1280, 720),
                Some(300.0),
                Some(300.0),
                "scale=300x168 crop=- pad=300x300+0+66 out=300x300",
            ),
            (
                Lpad,
                (320, 180),
                Some(640.0),
                Some(640.0),
                "scale=- crop=- pad=640x640+160+230 out=640x640",
            ),
            (
                Lpad,
                (1280, 720),
                Some(640.0),
                Some(640.0),
                "scale=640x360 crop=- pad=640x640+0+140 out=640x640",
            ),
            (
                Mpad,
                (320, 180),
                Some(640.0),
                Some(640.0),
                "scale=640x360 crop=- pad=640x640+0+140 out=640x640",
            ),
            (
                Mpad,
                (1280, 720),
                Some(640.0),
                Some(640.0),
                "scale=- crop=- pad=- out=1280x720",
            ),
            (
                FillPad,
                (720, 1280),
                Some(480.0),
                Some(320.0),
                "scale=180x320 crop=- pad=480x320+150+0 out=480x320",
            ),
            (
                Crop::Crop,
                (1280, 720),
                Some(300.0),
                Some(200.0),
                "scale=- crop=300x200+490+260 pad=- out=300x200",
            ),
            (
                Crop::Crop,
                (1280, 720),
                Some(3000.0),
                Some(200.0),
                "scale=- crop=1280x200+0+260 pad=- out=1280x200",
            ),
            (
                Thumb,
                (1280, 720),
                Some(100.0),
                Some(100.0),
                "scale=178x100 crop=100x100+39+0 pad=- out=100x100",
            ),
        ];
        for (mode, src, w, h, want) in cases {
            let got = show(resolve(*src, &req(*mode, *w, *h), true));
            assert_eq!(&got, want, "{mode:?} {src:?} {w:?}x{h:?}");
        }
    }

    #[test]
    fn gravity_offsets_and_aspect_ratio() {
        let mut r = req(Crop::Fill, Some(300.0), Some(300.0));
        r.gravity = Gravity::East;
        assert_eq!(
            show(resolve((1280, 720), &r, true)),
            "scale=534x300 crop=300x300+234+0 pad=- out=300x300"
        );
        r.gravity = Gravity::NorthWest;
        assert_eq!(
            show(resolve((1280, 720), &r, true)),
            "scale=534x300 crop=300x300+0+0 pad=- out=300x300"
        );
        let mut c = req(Crop::Crop, Some(100.0), Some(100.0));
        c.x = Some(10.0);
        c.y = Some(20.0);
        assert_eq!(
            show(resolve((1280, 720), &c, true)),
            "scale=- crop=100x100+10+20 pad=- out=100x100"
        );
        c.gravity = Gravity::SouthEast;
        assert_eq!(
            show(resolve((1280, 720), &c, true)),
            "scale=- crop=100x100+1170+600 pad=- out=100x100"
        );
        let mut a = req(Crop::Fill, Some(400.0), None);
        a.aspect_ratio = Some(16.0 / 9.0);
        assert_eq!(
            show(resolve((720, 1280), &a, true)),
            "scale=400x712 crop=400x226+0+243 pad=- out=400x226"
        );
        let mut only_ar = req(Crop::Crop, None, None);
        only_ar.aspect_ratio = Some(1.0);
        assert_eq!(
            show(resolve((1280, 720), &only_ar, true)),
            "scale=- crop=720x720+280+0 pad=- out=720x720"
        );
        // Odd sizes survive when the output does not need 4:2:0.
        assert_eq!(
            show(resolve(
                (1280, 720),
                &req(Crop::Scale, Some(333.0), None),
                false
            )),
            "scale=333x187 crop=- pad=- out=333x187"
        );
    }

    #[test]
    fn thumb_frames_the_face() {
        // A 100 px face in a 1000x800 picture: a 200 px square around it, no scaling.
        let r = thumb(
            (1000, 800),
            (200.0, 200.0),
            (450.0, 300.0, 100.0, 100.0),
            1.0,
            true,
        );
        assert_eq!(show(r), "scale=- crop=200x200+400+250 pad=- out=200x200");
        // Zoomed out (z_0.5) near the top-left corner: twice the region, kept inside.
        let r = thumb(
            (1000, 800),
            (100.0, 100.0),
            (10.0, 10.0, 50.0, 50.0),
            0.5,
            true,
        );
        assert_eq!(show(r), "scale=500x400 crop=100x100+0+0 pad=- out=100x100");
        // Wider than the picture allows: the largest region of the shape that fits.
        let r = thumb(
            (400, 300),
            (300.0, 100.0),
            (150.0, 100.0, 200.0, 200.0),
            1.0,
            false,
        );
        assert_eq!(
            show(r),
            "scale=300x225 crop=300x100+0+100 pad=- out=300x100"
        );
    }
}
