//! `fl_waveform`: a picture of the audio's waveform instead of a frame — `co_` draws it
//! (default white) on `b_` (default black), `w_`×`h_` pixels (default 1000×200).

use super::chain::{Builder, Params};
use super::output::{self, Format, OutputKind};
use super::{Input, Plan, PlanError};
use crate::url::Step;
use crate::url::values::{Background, Color, Flag, Size};

/// Whether the steps ask for a waveform.
pub(super) fn wanted(steps: &[Step]) -> bool {
    steps
        .iter()
        .any(|s| matches!(s, Step::Apply(c) if c.has_flag(&Flag::Waveform)))
}

impl Builder<'_> {
    pub(super) fn waveform(
        mut self,
        steps: &[Step],
        format: &Format,
        extension: &str,
    ) -> Result<Plan, PlanError> {
        if format.kind != OutputKind::Frame {
            return Err(PlanError::Invalid(format!(
                "fl_waveform makes a picture; .{extension} is not one (use .png, .jpg or .webp)"
            )));
        }
        let media = &self.ctx.base.media;
        if !media.has_audio {
            return Err(PlanError::Invalid(
                "the media has no audio track to draw a waveform of".into(),
            ));
        }
        let (mut w, mut h, mut fg, mut bg) = (1000, 200, Color::WHITE, Color::BLACK);
        for step in steps {
            let Step::Apply(c) = step else { continue };
            let p = Params::of(c)?;
            if let Some(Size::Pixels(px)) = p.width {
                w = px;
            }
            if let Some(Size::Pixels(px)) = p.height {
                h = px;
            }
            if let Some(c) = p.color {
                fg = c;
            }
            if let Some(Background::Color(c)) = p.background {
                bg = c;
            }
        }
        let max = self.ctx.max_dimension;
        if w > max || h > max {
            return Err(PlanError::TooLarge(format!(
                "a {w}x{h} waveform is over the maximum of {max} pixels a side"
            )));
        }
        let enc = output::video_encoding(format, &self.settings, 1.0, bg.a < 255)?
            .ok_or_else(|| PlanError::Invalid("no picture encoder for the waveform".into()))?;
        self.inputs.push(Input {
            path: self.ctx.base.path.clone(),
            seek: None,
            video: false,
            audio: true,
            shrink: 0,
            picture: false,
            to_srgb: false,
        });
        // showwavespic draws on transparency; lay it on the background pixel by pixel.
        let a = "alpha(X\\,Y)/255";
        let channel = |name: &str, back: u8| format!("{name}(X\\,Y)*{a}+{back}*(1-{a})");
        let graph = format!(
            "[0:a]aformat=channel_layouts=mono,showwavespic=s={w}x{h}:colors={},format=rgba,\
             geq=r={}:g={}:b={}:a=alpha(X\\,Y)+{}*(1-{a}),format={}[vout]",
            fg.to_ffmpeg(),
            channel("r", bg.r),
            channel("g", bg.g),
            channel("b", bg.b),
            bg.a,
            enc.pix_fmt
        );
        Ok(Plan {
            inputs: self.inputs,
            graph,
            video: Some(enc),
            audio: None,
            muxer: format.muxer.to_string(),
            muxer_options: output::muxer_options(format),
            max_frames: Some(1),
            kind: OutputKind::Frame,
            extension: format.extension.to_string(),
            duration: 0.0,
            fps: 1.0,
            segments: None,
        })
    }
}
