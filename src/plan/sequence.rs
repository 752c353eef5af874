//! Pictures in sequence: an animation or a video made of several pictures (the Upload API's
//! `multi`), each fitted into the first one's size on a transparent (or, where the format has
//! no alpha, white) backdrop and shown for the same delay. The frames are joined with
//! `concat`; encoding is what any animated or video output of the chain gets.

use super::chain::{Builder, Track, num};
use super::{Context, OutputKind, Plan, PlanError, Source, output};

/// The most pictures one sequence holds.
pub const MAX_PICTURES: usize = 500;

/// Plans `pictures` as one animation or video in `extension`, `delay_ms` apart.
pub fn sequence(
    pictures: &[Source],
    extension: &str,
    delay_ms: u32,
    ctx: &Context,
) -> Result<Plan, PlanError> {
    Builder::new(ctx).sequence(pictures, extension, delay_ms)
}

impl Builder<'_> {
    fn sequence(
        mut self,
        pictures: &[Source],
        extension: &str,
        delay_ms: u32,
    ) -> Result<Plan, PlanError> {
        if pictures.is_empty() || pictures.len() > MAX_PICTURES {
            return Err(PlanError::Invalid(format!(
                "a sequence has 1 to {MAX_PICTURES} pictures, not {}",
                pictures.len()
            )));
        }
        let format = output::format_of(extension, true)?;
        if !matches!(format.kind, OutputKind::Animation | OutputKind::Video) {
            return Err(PlanError::Invalid(format!(
                "pictures in sequence make an animation or a video, not a .{extension}"
            )));
        }
        self.kind = format.kind;
        let delay = f64::from(delay_ms.clamp(20, 60_000)) / 1000.0;
        let mut labels = Vec::with_capacity(pictures.len());
        let mut base = None;
        for picture in pictures {
            let mut s = self.open(picture, false, true);
            let Some(mut v) = s.video.take() else {
                return Err(PlanError::Invalid(
                    "every picture of a sequence needs a picture".into(),
                ));
            };
            // The first picture's stream stands for the sequence: its size, even for video.
            let first = base.get_or_insert_with(|| {
                let max = self.ctx.max_dimension.max(2);
                s.w = (s.w.min(max) & !1).max(2);
                s.h = (s.h.min(max) & !1).max(2);
                s
            });
            let (w, h) = (first.w, first.h);
            v.push(format!(
                "scale={w}:{h}:force_original_aspect_ratio=decrease,format=rgba,\
                 pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=white@0,setsar=1,settb=AVTB"
            ));
            labels.push(self.flush(&mut v));
        }
        let Some(mut base) = base else {
            return Err(PlanError::Invalid("a sequence needs pictures".into()));
        };
        let joined = self.label("v");
        let inputs: String = labels.iter().map(|l| format!("[{l}]")).collect();
        // A video repeats each picture at a common frame rate (players expect one); an
        // animation keeps one frame per picture.
        let video_rate = (format.kind == OutputKind::Video).then_some(25.0);
        let resample = video_rate.map_or(String::new(), |r| format!(",fps={}", num(r)));
        self.chains.push(format!(
            "{inputs}concat=n={}:v=1:a=0,settb=1/1000,setpts=N*{}/TB{resample}[{joined}]",
            labels.len(),
            num(delay)
        ));
        base.video = Some(Track {
            label: joined,
            pending: vec![],
            untouched: false,
            audio: false,
        });
        base.fps = video_rate.unwrap_or(1.0 / delay);
        base.duration = delay * labels.len() as f64;
        base.alpha = true;
        base.image = true;
        base.at_source = false;
        self.finish(base, &format, extension)
    }
}
