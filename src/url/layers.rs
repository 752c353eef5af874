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
use super::values::Flag;

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
            comps[i + 1..].iter().position(closes).map(|k| i + 1 + k)
        };
        if let Some(end) = close {
            if let Some(nested) = comps[i + 1..end].iter().find(|c| opener(c).is_some()) {
                return Err(TransformationError::Unsupported {
                    item: nested.to_string(),
                    reason: "layers inside layers are not supported".into(),
                });
            }
            chain.extend(comps[i + 1..end].iter().cloned());
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
                        "layer({:?} chain={:?} at={})",
                        l.source,
                        l.chain.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        l.placement
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
            shape("e_reverse/fl_layer_apply"),
            "error: Invalid transformation: fl_layer_apply without a layer (l_ or u_) to apply"
        );
    }
}
