//! Looking at the pixels before planning, only when a transformation needs it: where the
//! interest is (`g_auto`) and where the faces are (`g_face`, `g_faces`, `e_blur_faces`,
//! `e_pixelate_faces`). Blocking (decodes frames); callers use `spawn_blocking`.

use std::sync::OnceLock;

use super::ServiceError;
use crate::error::ErrorKind;
use crate::focus::{Cascade, Map};
use crate::plan::{self, Region, Source};
use crate::url::Step;

/// The frontal-face Haar cascade from Debian's opencv-data.
pub const FACE_CASCADE: &str =
    "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";

/// A second, differently trained cascade that confirms the first one's faces.
pub const FACE_CONFIRM_CASCADE: &str =
    "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml";

/// Longest side of the picture faces are looked for in.
const FACE_SIDE: u32 = 800;

/// What the planner is told about the base picture (it travels from a worker as JSON).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Analysis {
    pub focus: Option<Map>,
    pub faces: Vec<Region>,
    pub trim: Option<Region>,
    pub edge_color: Option<crate::url::values::Color>,
}

/// Whether `steps` need any analysis (any decoding before the plan).
pub fn needed(steps: &[Step]) -> bool {
    plan::wants_focus(steps)
        || plan::wants_faces(steps)
        || plan::wants_trim(steps).is_some()
        || plan::wants_edge_color(steps)
}

/// Runs the analyses `steps` need on `base`.
pub fn analyse(base: &Source, steps: &[Step]) -> Result<Analysis, ServiceError> {
    let failed = |what: &str, source| ServiceError::Media {
        what: what.into(),
        source,
    };
    let focus = plan::wants_focus(steps)
        .then(|| focus_of(base))
        .transpose()
        .map_err(|e| failed("Finding the subject for g_auto failed", e))?;
    let faces = if plan::wants_faces(steps) {
        faces_of(base)?
    } else {
        Vec::new()
    };
    let trim = match plan::wants_trim(steps) {
        Some(tolerance) => trim_of(base, tolerance)?,
        None => None,
    };
    let edge_color = if plan::wants_edge_color(steps) {
        let m = &base.media;
        let at = if m.image { 0.0 } else { m.duration / 2.0 };
        let [r, g, b] = crate::engine::edge_color(&base.path, at)
            .map_err(|e| failed("Finding the edge colour for b_auto failed", e))?;
        Some(crate::url::values::Color { r, g, b, a: 255 })
    } else {
        None
    };
    Ok(Analysis {
        focus,
        faces,
        trim,
        edge_color,
    })
}

/// The box inside a picture's solid border (`e_trim`), upright.
fn trim_of(source: &Source, tolerance: u32) -> Result<Option<Region>, ServiceError> {
    let m = &source.media;
    let at = if m.image { 0.0 } else { m.duration / 2.0 };
    let samples = crate::engine::sample_gray(&source.path, &[at], 0, 1024).map_err(|source| {
        ServiceError::Media {
            what: "Finding the border for e_trim failed".into(),
            source,
        }
    })?;
    let Some((frame, _)) = samples.first() else {
        return Ok(None);
    };
    let gray = frame.upright(m.orientation);
    let tolerance = u8::try_from(tolerance * 255 / 100).unwrap_or(u8::MAX);
    let (w, h) = (gray.width as f64, gray.height as f64);
    Ok(
        crate::focus::content_box(&gray, tolerance).map(|(x, y, bw, bh)| Region {
            x: x as f64 / w,
            y: y as f64 / h,
            w: bw as f64 / w,
            h: bh as f64 / h,
        }),
    )
}

/// Samples a source (eight moments of a video, the one picture of an image) and maps where
/// its interest is, upright.
pub fn focus_of(source: &Source) -> Result<Map, crate::engine::EngineError> {
    const SAMPLES: u32 = 8;
    let m = &source.media;
    let times: Vec<f64> = if m.duration > 0.0 && !m.image {
        (0..SAMPLES)
            .map(|i| m.duration * (f64::from(i) + 0.5) / f64::from(SAMPLES))
            .collect()
    } else {
        vec![0.0]
    };
    let samples = crate::engine::sample_gray(&source.path, &times, 3, 160)?
        .into_iter()
        .map(|(now, later)| {
            (
                now.upright(m.orientation),
                later.map(|l| l.upright(m.orientation)),
            )
        })
        .collect::<Vec<_>>();
    Ok(crate::focus::interest(&samples))
}

struct Cascades {
    find: Cascade,
    confirm: Cascade,
}

/// The cascades, read and parsed once per process.
fn cascades() -> Result<&'static Cascades, ServiceError> {
    static CASCADES: OnceLock<Result<Cascades, String>> = OnceLock::new();
    let load = |path: &str| {
        std::fs::read_to_string(path)
            .map_err(|e| format!("{path}: {e}"))
            .and_then(|xml| Cascade::parse(&xml).map_err(|e| format!("{path}: {e}")))
    };
    CASCADES
        .get_or_init(|| {
            Ok(Cascades {
                find: load(FACE_CASCADE)?,
                confirm: load(FACE_CONFIRM_CASCADE)?,
            })
        })
        .as_ref()
        .map_err(|e| ServiceError::Failed {
            kind: ErrorKind::Internal,
            message: format!("face detection is not available (install opencv-data): {e}"),
        })
}

/// The faces in a picture (or the middle of a video), upright, largest first.
pub fn faces_of(source: &Source) -> Result<Vec<Region>, ServiceError> {
    let c = cascades()?;
    let m = &source.media;
    let at = if m.image { 0.0 } else { m.duration / 2.0 };
    let samples =
        crate::engine::sample_gray(&source.path, &[at], 0, FACE_SIDE).map_err(|source| {
            ServiceError::Media {
                what: "Finding faces failed".into(),
                source,
            }
        })?;
    let Some((frame, _)) = samples.first() else {
        return Ok(Vec::new());
    };
    let gray = frame.upright(m.orientation);
    let found = c.confirm.confirm(&gray, &c.find.detect(&gray, 24));
    let (w, h) = (gray.width as f64, gray.height as f64);
    Ok(found
        .iter()
        .map(|f| Region {
            x: f.x / w,
            y: f.y / h,
            w: f.w / w,
            h: f.h / h,
        })
        .collect())
}
