//! Several plans over the same inputs as one run: a single graph that decodes each input once
//! and splits its streams to every plan's chain, with one sink per plan (`[vout_K]`,
//! `[aout_K]` for plan `K`). A ladder of renditions then costs one decode, not one per rung.

use serde::{Deserialize, Serialize};

use super::{Input, Plan, PlanError};

/// Plans that share their inputs, run by the engine as one graph with many outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedPlan {
    pub inputs: Vec<Input>,
    /// Reads `[i:v]`/`[i:a]`, writes `[vout_K]`/`[aout_K]` for each output `K`.
    pub graph: String,
    /// Each output's encoders, muxer and settings (their own inputs and graphs are not used).
    pub outputs: Vec<Plan>,
}

/// The sink labels of output `k`.
pub fn sink_names(k: usize) -> (String, String) {
    (format!("vout_{k}"), format!("aout_{k}"))
}

/// Merges `plans`; they must read the same files from the same places.
pub fn merge(plans: Vec<Plan>) -> Result<MergedPlan, PlanError> {
    let first = plans
        .first()
        .ok_or_else(|| PlanError::Invalid("nothing to merge".into()))?;
    let mut inputs = first.inputs.clone();
    for plan in &plans[1..] {
        let same = plan.inputs.len() == inputs.len()
            && plan.inputs.iter().zip(&inputs).all(|(a, b)| {
                a.path == b.path
                    && a.seek == b.seek
                    && a.shrink == b.shrink
                    && a.picture == b.picture
            });
        if !same {
            return Err(PlanError::Unsupported(
                "plans with different inputs cannot share a run".into(),
            ));
        }
        for (merged, input) in inputs.iter_mut().zip(&plan.inputs) {
            merged.video |= input.video;
            merged.audio |= input.audio;
        }
    }
    let mut chains = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        for (kind, wanted, split) in [("v", input.video, "split"), ("a", input.audio, "asplit")] {
            let label = format!("{i}:{kind}");
            let users: Vec<usize> = plans
                .iter()
                .enumerate()
                .filter(|(_, p)| wanted && p.graph.contains(&format!("[{label}]")))
                .map(|(k, _)| k)
                .collect();
            if users.is_empty() {
                continue;
            }
            let outs: String = users.iter().map(|k| format!("[{label}_{k}]")).collect();
            chains.push(format!("[{label}]{split}={}{outs}", users.len()));
        }
    }
    for (k, plan) in plans.iter().enumerate() {
        chains.push(suffix_labels(&plan.graph, k));
    }
    Ok(MergedPlan {
        inputs,
        graph: chains.join(";"),
        outputs: plans,
    })
}

/// Renames every link label `[x]` of a graph to `[x_k]`. Quoted text (`'…'`) and escaped
/// characters in filter arguments are left alone.
fn suffix_labels(graph: &str, k: usize) -> String {
    let mut out = String::with_capacity(graph.len() + 16);
    let mut chars = graph.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '[' if !quoted => {
                let mut label = String::new();
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || matches!(n, '_' | ':' | '.' | '-') {
                        label.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if chars.peek() == Some(&']') && !label.is_empty() {
                    chars.next();
                    out.push_str(&format!("[{label}_{k}]"));
                } else {
                    out.push('[');
                    out.push_str(&label);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::OutputKind;

    fn plan(graph: &str, video: bool, audio: bool) -> Plan {
        Plan {
            inputs: vec![Input {
                path: "in.mp4".into(),
                seek: Some(8.0),
                video,
                audio,
                shrink: 0,
                picture: false,
                to_srgb: false,
            }],
            graph: graph.into(),
            video: None,
            audio: None,
            muxer: "mp4".into(),
            muxer_options: vec![],
            max_frames: None,
            kind: OutputKind::Video,
            extension: "mp4".into(),
            duration: 4.0,
            fps: 25.0,
            segments: None,
        }
    }

    #[test]
    fn one_decode_feeds_every_chain() {
        let merged = merge(vec![
            plan("[0:v]scale=640:360[v1];[v1]null[vout]", true, false),
            plan("[0:v]scale=320:180[v1];[v1]null[vout]", true, false),
            plan("[0:a]anull[aout]", false, true),
        ])
        .unwrap();
        assert_eq!(
            merged.graph,
            "[0:v]split=2[0:v_0][0:v_1];[0:a]asplit=1[0:a_2];\
             [0:v_0]scale=640:360[v1_0];[v1_0]null[vout_0];\
             [0:v_1]scale=320:180[v1_1];[v1_1]null[vout_1];\
             [0:a_2]anull[aout_2]"
        );
        assert!(merged.inputs[0].video && merged.inputs[0].audio);
        assert_eq!(merged.outputs.len(), 3);
        assert_eq!(sink_names(2), ("vout_2".into(), "aout_2".into()));
    }

    #[test]
    fn quoted_text_keeps_its_brackets_and_inputs_must_match() {
        assert_eq!(
            suffix_labels(r"[0:v]drawtext=text='[x]':x=1\[y[v]", 3),
            r"[0:v_3]drawtext=text='[x]':x=1\[y[v_3]"
        );
        let mut other = plan("[0:v]null[vout]", true, false);
        other.inputs[0].seek = Some(0.0);
        assert!(merge(vec![plan("[0:v]null[vout]", true, false), other]).is_err());
    }
}
