//! Grouping components into steps: plain components, and layers opened by `l_`/`u_` and
//! closed by `fl_layer_apply` (reference §1.9).
//!
//! Between the opener and the apply component are the layer's own transformations; placement
//! (`g_`, `x_`, `y_`, `so_`, `eo_`, `du_`, flags) may sit on either end. The legacy one-component
//! form (`g_north_east,l_logo,w_100`) is a layer whose other parameters size it.

use serde::{Deserialize, Serialize};

use super::transformation::{
    Component, LayerSource, Param, Transformation, TransformationError, Value,
};
use super::values::{Effect, Flag};

/// A step of the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Step {
    Apply(Component),
    Layer(Layer),
}

/// An overlay (or underlay, or a spliced clip) with its own transformations and placement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    pub source: LayerSource,
    pub underlay: bool,
    /// Transformations of the layer itself, in order.
    pub chain: Vec<Component>,
    /// Where and when the layer goes: gravity, offsets, timing and flags of both ends.
    pub placement: Component,
    /// The luma matte of a splice (`e_transition,l_video:<id>` nested in the layer).
    pub transition: Option<LayerSource>,
}

impl Layer {
    pub fn has_flag(&self, flag: &Flag) -> bool {
        self.placement.has_flag(flag)
    }
}

fn is_placement(p: &Param) -> bool {
    matches!(
        p.value,
        Value::Gravity(_)
            | Value::X(_)
            | Value::Y(_)
            | Value::StartOffset(_)
            | Value::EndOffset(_)
            | Value::Duration(_)
            | Value::Flags(_)
    )
}

fn opener(c: &Component) -> Option<(LayerSource, bool)> {
    c.params.iter().find_map(|p| match &p.value {
        Value::Layer(s) => Some((s.clone(), false)),
        Value::Underlay(s) => Some((s.clone(), true)),
        _ => None,
    })
}

fn without_layer_apply(params: impl IntoIterator<Item = Param>) -> Vec<Param> {
    params
        .into_iter()
        .filter_map(|mut p| {
            if let Value::Flags(flags) = &mut p.value {
                flags.retain(|f| *f != Flag::LayerApply);
                if flags.is_empty() {
                    return None;
                }
            }
            Some(p)
        })
        .collect()
}

/// Where the layer opened before `from` is closed: the next `fl_layer_apply` not taken by a
/// layer opened in between.
fn closing(comps: &[Component], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, c) in comps.iter().enumerate().skip(from) {
        let closes = c.has_flag(&Flag::LayerApply);
        if opener(c).is_some() && !closes {
            depth += 1;
        } else if closes {
            if depth == 0 {
                return Some(k);
            }
            depth -= 1;
        }
    }
    None
}

/// A layer's own components, with its nested transition (the only layer allowed inside one)
/// taken out.
fn own_chain(
    comps: &[Component],
) -> Result<(Vec<Component>, Option<LayerSource>), TransformationError> {
    let mut chain = Vec::new();
    let mut transition = None;
    let mut k = 0;
    while k < comps.len() {
        let c = &comps[k];
        let Some((source, _)) = opener(c) else {
            chain.push(c.clone());
            k += 1;
            continue;
        };
        let marked = c
            .params
            .iter()
            .any(|p| matches!(p.value, Value::Effect(Effect::Transition)));
        let end = closing(comps, k + 1);
        let only_opener = c.params.len() == 2;
        let bare_close = end.is_some_and(|e| {
            e == k + 1
                && comps[e]
                    .params
                    .iter()
                    .all(|p| matches!(p.value, Value::Flags(_)))
        });
        let fits = marked && matches!(source, LayerSource::Video { .. }) && only_opener;
        if !fits || !bare_close || transition.is_some() {
            return Err(TransformationError::Unsupported {
                item: c.to_string(),
                reason: "the only layer inside a layer is one transition, \
                         e_transition,l_video:<matte>/fl_layer_apply"
                    .into(),
            });
        }
        transition = Some(source);
        k += 2;
    }
    Ok((chain, transition))
}

/// Groups a (named-expanded) transformation into steps.
pub fn steps(t: &Transformation) -> Result<Vec<Step>, TransformationError> {
    let closes = |c: &Component| c.has_flag(&Flag::LayerApply);
    let mut out = Vec::new();
    let mut i = 0;
    let comps = &t.components;
    while i < comps.len() {
        let c = &comps[i];
        let Some((source, underlay)) = opener(c) else {
            if closes(c) {
                return Err(TransformationError::Structure(
                    "fl_layer_apply without a layer (l_ or u_) to apply".into(),
                ));
            }
            out.push(Step::Apply(c.clone()));
            i += 1;
            continue;
        };
        let rest: Vec<Param> = c
            .params
            .iter()
            .filter(|p| !matches!(p.value, Value::Layer(_) | Value::Underlay(_)))
            .cloned()
            .collect();
        let (mut placement, own): (Vec<Param>, Vec<Param>) =
            rest.into_iter().partition(is_placement);
        let mut chain = Vec::new();
        if !own.is_empty() {
            chain.push(Component { params: own });
        }
        // Modern form: everything up to the component with fl_layer_apply belongs to the layer.
        let close = if closes(c) {
            None
        } else {
            closing(comps, i + 1)
        };
        let mut transition = None;
        if let Some(end) = close {
            let (own, nested) = own_chain(&comps[i + 1..end])?;
            chain.extend(own);
            transition = nested;
            placement.extend(comps[end].params.iter().cloned());
            i = end + 1;
        } else {
            i += 1;
        }
        out.push(Step::Layer(Layer {
            source,
            underlay,
            chain,
            placement: Component {
                params: without_layer_apply(placement),
            },
            transition,
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str) -> String {
        let t = Transformation::parse_str(text).unwrap();
        match steps(&t) {
            Ok(steps) => steps
                .iter()
                .map(|s| match s {
                    Step::Apply(c) => format!("[{c}]"),
                    Step::Layer(l) => format!(
                        "layer({:?} chain={:?} at={}{})",
                        l.source,
                        l.chain.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        l.placement,
                        l.transition
                            .as_ref()
                            .map(|t| format!(" transition={t:?}"))
                            .unwrap_or_default()
                    ),
                })
                .collect::<Vec<_>>()
                .join(" "),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn layers_group_into_steps() {
        assert_eq!(
            shape("c_scale,w_500/l_video:cat/c_scale,w_200/du_5,fl_layer_apply,g_north_east,so_2"),
            r#"[c_scale,w_500] layer(Video { public_id: "cat" } chain=["c_scale,w_200"] at=du_5,g_north_east,so_2)"#
        );
        assert_eq!(
            shape("g_north_east,l_logo,w_100,x_10,y_10"),
            r#"layer(Image { public_id: "logo", format: None } chain=["w_100"] at=g_north_east,x_10,y_10)"#
        );
        assert_eq!(
            shape("fl_splice,l_video:cat/fl_layer_apply"),
            r#"layer(Video { public_id: "cat" } chain=[] at=fl_splice)"#
        );
        assert_eq!(
            shape(
                "du_5/l_video:dog,fl_splice,du_5/e_transition,l_video:wipe/fl_layer_apply/fl_layer_apply"
            ),
            r#"[du_5] layer(Video { public_id: "dog" } chain=[] at=du_5,fl_splice transition=Video { public_id: "wipe" })"#
        );
        assert_eq!(
            shape("l_video:dog/e_sepia/e_transition,l_video:wipe/fl_layer_apply/fl_layer_apply"),
            r#"layer(Video { public_id: "dog" } chain=["e_sepia"] at= transition=Video { public_id: "wipe" })"#
        );
        for nested in [
            "l_video:dog/l_logo/fl_layer_apply/fl_layer_apply",
            "l_video:dog/e_transition,l_logo/fl_layer_apply/fl_layer_apply",
            "l_video:dog/e_transition,l_video:w,w_10/fl_layer_apply/fl_layer_apply",
            "l_video:dog/e_transition,l_video:w/e_sepia/fl_layer_apply/fl_layer_apply",
            "l_video:dog/e_transition,l_video:w/fl_layer_apply/e_transition,l_video:v/fl_layer_apply/fl_layer_apply",
        ] {
            assert!(
                shape(nested).starts_with("error: "),
                "{nested}: {}",
                shape(nested)
            );
        }
        assert_eq!(
            shape("e_reverse/fl_layer_apply"),
            "error: Invalid transformation: fl_layer_apply without a layer (l_ or u_) to apply"
        );
    }
}
