//! Variables, arithmetic and conditions in transformations (reference §1.10): `$name_value`
//! definitions, values such as `w_iw_div_2` or `w_$size`, and `if_<condition>` components
//! (`…/if_else/…/if_end`, or inline `if_…,<params>` for one component).
//!
//! They depend on the asset (its size, duration, pages, tags), so [`Transformation::resolve`]
//! turns them, given those [`Facts`], into a plain transformation before it is planned: the
//! conditions pick components, variables and expressions become numbers, and every item that
//! results is parsed (and checked) like any other. Conditions see the source's dimensions:
//! `w`, `h`, `ar` and `du` are those of the asset, not of earlier components' output.

use std::collections::HashMap;

use super::transformation::{
    Component, Param, Transformation, TransformationError, Value, parse_item,
};

/// What expressions may ask about the asset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub width: f64,
    pub height: f64,
    pub duration: f64,
    pub pages: f64,
    pub tags: Vec<String>,
}

/// A value an expression stands for.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Number(f64),
    /// `!text!`; `!a:b!` is a list of two.
    Text(String),
    List(Vec<String>),
}

const ARITHMETIC: &[&str] = &["add", "sub", "mul", "div", "mod", "pow"];
const COMPARISONS: &[&str] = &["eq", "ne", "lt", "gt", "lte", "gte", "in", "nin"];
const PREDEFINED: &[&str] = &["w", "h", "ar", "iw", "ih", "iar", "du", "idu", "pc", "tags"];

/// The most tokens an expression may have (evaluation recurses once per operator).
const MAX_TOKENS: usize = 63;

/// The `_`-separated tokens of an expression; `!…!` literals may hold `_`.
fn tokens(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if out.len() >= MAX_TOKENS {
            return Err(format!("the expression has more than {MAX_TOKENS} parts"));
        }
        if let Some(after) = rest.strip_prefix('!') {
            let end = after
                .find('!')
                .ok_or_else(|| format!("a '!' literal is not closed in {text:?}"))?;
            out.push(format!("!{}!", &after[..end]));
            rest = &after[end + 1..];
        } else {
            let end = rest.find('_').unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
        match rest.strip_prefix('_') {
            Some(r) if !r.is_empty() => rest = r,
            Some(_) => return Err(format!("{text:?} ends with '_'")),
            None if rest.is_empty() => {}
            None => return Err(format!("a '!' literal must be followed by '_' in {text:?}")),
        }
    }
    Ok(out)
}

/// Whether a parameter value is an expression to work out later (not a plain value).
pub(super) fn is_expression(value: &str) -> bool {
    if value.contains('$') || PREDEFINED.contains(&value) {
        return true;
    }
    let parts: Vec<&str> = value.split('_').collect();
    parts.len() >= 3 && parts.len() % 2 == 1 && ARITHMETIC.contains(&parts[1])
}

/// Checks an expression's shape (operands and operators alternate) without evaluating it.
pub(super) fn check_expression(text: &str, condition: bool) -> Result<(), String> {
    let toks = tokens(text)?;
    if toks.len() % 2 == 0 {
        return Err(format!("{text:?} is not operands joined by operators"));
    }
    for (i, tok) in toks.iter().enumerate() {
        if i % 2 == 1 {
            let known = ARITHMETIC.contains(&tok.as_str())
                || (condition
                    && (COMPARISONS.contains(&tok.as_str()) || tok == "and" || tok == "or"));
            if !known {
                return Err(format!("{tok:?} is not an operator"));
            }
        } else {
            operand_shape(tok)?;
        }
    }
    Ok(())
}

fn operand_shape(tok: &str) -> Result<(), String> {
    let fine = tok.parse::<f64>().is_ok()
        || PREDEFINED.contains(&tok)
        || (tok.starts_with('!') && tok.ends_with('!') && tok.len() >= 2)
        || tok.strip_prefix('$').is_some_and(variable_name);
    if fine {
        Ok(())
    } else if matches!(
        tok,
        "fc" | "cp" | "px" | "py" | "ctx" | "md" | "tar" | "ils"
    ) {
        Err(format!("{tok:?} is not supported in expressions"))
    } else {
        Err(format!(
            "{tok:?} is not a number, a variable or a known value"
        ))
    }
}

/// `$` + a letter, then letters and digits.
pub(super) fn variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric())
}

struct Scope<'a> {
    facts: &'a Facts,
    vars: HashMap<String, Val>,
}

impl Scope<'_> {
    fn operand(&self, tok: &str) -> Result<Val, String> {
        if let Ok(n) = tok.parse::<f64>() {
            return Ok(Val::Number(n));
        }
        if let Some(text) = tok.strip_prefix('!').and_then(|t| t.strip_suffix('!')) {
            return Ok(if text.contains(':') {
                Val::List(text.split(':').map(str::to_string).collect())
            } else {
                Val::Text(text.to_string())
            });
        }
        if let Some(name) = tok.strip_prefix('$') {
            return self
                .vars
                .get(name)
                .cloned()
                .ok_or_else(|| format!("variable ${name} is used before it is set"));
        }
        let f = self.facts;
        let ratio = if f.height > 0.0 {
            f.width / f.height
        } else {
            0.0
        };
        Ok(match tok {
            "w" | "iw" => Val::Number(f.width),
            "h" | "ih" => Val::Number(f.height),
            "ar" | "iar" => Val::Number(ratio),
            "du" | "idu" => Val::Number(f.duration),
            "pc" => Val::Number(f.pages),
            "tags" => Val::List(f.tags.clone()),
            other => return Err(format!("{other:?} is not a known value")),
        })
    }

    /// Arithmetic with the usual precedence (`pow`, then `mul div mod`, then `add sub`).
    fn number(&self, toks: &[String]) -> Result<Val, String> {
        if toks.len() == 1 {
            return self.operand(&toks[0]);
        }
        for ops in [
            &["add", "sub"][..],
            &["mul", "div", "mod"][..],
            &["pow"][..],
        ] {
            // The last operator of the loosest level splits the expression (left-associative).
            if let Some(i) = (1..toks.len())
                .step_by(2)
                .rev()
                .find(|&i| ops.contains(&toks[i].as_str()))
            {
                let (a, b) = (self.number(&toks[..i])?, self.number(&toks[i + 1..])?);
                let (Val::Number(a), Val::Number(b)) = (a, b) else {
                    return Err(format!("{} needs numbers", toks[i]));
                };
                return Ok(Val::Number(match toks[i].as_str() {
                    "add" => a + b,
                    "sub" => a - b,
                    "mul" => a * b,
                    "div" if b == 0.0 => return Err("division by zero".into()),
                    "div" => a / b,
                    "mod" if b == 0.0 => return Err("division by zero".into()),
                    "mod" => a % b,
                    _ => a.powf(b),
                }));
            }
        }
        Err(format!(
            "{:?} is not an arithmetic expression",
            toks.join("_")
        ))
    }

    /// `or` of `and`s of comparisons.
    fn condition(&self, toks: &[String]) -> Result<bool, String> {
        for (op, all) in [("or", false), ("and", true)] {
            if toks.iter().any(|t| t == op) {
                let mut parts = toks.split(|t| t == op);
                return if all {
                    parts.try_fold(true, |acc, p| Ok(acc && self.condition(p)?))
                } else {
                    parts.try_fold(false, |acc, p| Ok(acc || self.condition(p)?))
                };
            }
        }
        let Some(i) = toks.iter().position(|t| COMPARISONS.contains(&t.as_str())) else {
            return Err(format!("{:?} compares nothing", toks.join("_")));
        };
        let (a, b) = (self.number(&toks[..i])?, self.number(&toks[i + 1..])?);
        Ok(match (toks[i].as_str(), a, b) {
            ("in" | "nin", a, Val::List(list)) => {
                let wanted = match a {
                    Val::List(items) => items,
                    Val::Text(t) => vec![t],
                    Val::Number(n) => vec![n.to_string()],
                };
                let all = wanted.iter().all(|w| list.contains(w));
                (toks[i] == "in") == all
            }
            (op, Val::Number(a), Val::Number(b)) => match op {
                "eq" => (a - b).abs() < 1e-9,
                "ne" => (a - b).abs() >= 1e-9,
                "lt" => a < b,
                "gt" => a > b,
                "lte" => a <= b,
                "gte" => a >= b,
                _ => return Err(format!("{op} needs a list on its right")),
            },
            ("eq", a, b) => a == b,
            ("ne", a, b) => a != b,
            (op, _, _) => return Err(format!("{op} needs numbers")),
        })
    }
}

/// A number as a parameter value: whole numbers without a decimal point.
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        let s = format!("{n:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Where a component stands in an `if_…/if_else/if_end` block.
#[derive(Debug, Clone, Copy)]
struct Block {
    /// The branch being read is taken.
    taking: bool,
    /// The `if` branch was taken (the `else` branch is not).
    matched: bool,
}

impl Transformation {
    /// Whether some parameter is a variable, an expression or a condition.
    pub fn is_deferred(&self) -> bool {
        self.components.iter().flat_map(|c| &c.params).any(|p| {
            matches!(
                p.value,
                Value::Condition(_) | Value::Variable { .. } | Value::Deferred
            )
        })
    }

    /// The plain transformation this one is for an asset with `facts`.
    ///
    /// A component led by `if_<condition>` opens a block when an `if_else` or `if_end`
    /// component follows before the next condition, else the condition applies to that
    /// component alone. Parameters beside `if_else` belong to the else branch; those beside
    /// `if_end` follow the block.
    pub fn resolve(&self, facts: &Facts) -> Result<Transformation, TransformationError> {
        let mut scope = Scope {
            facts,
            vars: HashMap::new(),
        };
        let mut block: Option<Block> = None;
        let mut out = Vec::new();
        for (at, component) in self.components.iter().enumerate() {
            let (control, rest) = split_control(component)?;
            let taking = match control {
                None => block.is_none_or(|b| b.taking),
                Some(("end", _)) => {
                    block.take().ok_or_else(|| structure("if_end without if"))?;
                    true
                }
                Some(("else", _)) => {
                    let b = block
                        .as_mut()
                        .ok_or_else(|| structure("if_else without if"))?;
                    b.taking = !b.matched;
                    b.taking
                }
                Some((condition, item)) => {
                    if block.is_some() {
                        return Err(structure(
                            "conditions do not nest: close the first with if_end",
                        ));
                    }
                    let taken = scope.test(condition, item)?;
                    if self.opens_block(at) {
                        block = Some(Block {
                            taking: taken,
                            matched: taken,
                        });
                    }
                    taken
                }
            };
            if taking && let Some(resolved) = scope.component(&rest)? {
                out.push(resolved);
            }
        }
        if block.is_some() {
            return Err(structure("an if_ block is not closed with if_end"));
        }
        Ok(Transformation { components: out })
    }

    /// Whether the condition leading component `at` opens a block: an `if_else` or `if_end`
    /// comes before any other condition.
    fn opens_block(&self, at: usize) -> bool {
        self.components[at + 1..]
            .iter()
            .find_map(|c| {
                c.params.iter().find_map(|p| match &p.value {
                    Value::Condition(c) => Some(c == "else" || c == "end"),
                    _ => None,
                })
            })
            .unwrap_or(false)
    }
}

/// A component's `if_` item: `else`, `end` or the condition, and the item's text.
type Control<'a> = Option<(&'a str, &'a str)>;

/// A component's condition and its other parameters.
fn split_control(component: &Component) -> Result<(Control<'_>, Vec<&Param>), TransformationError> {
    let mut control = None;
    let mut rest = Vec::new();
    for p in &component.params {
        match &p.value {
            Value::Condition(c) if control.is_none() => {
                control = Some((c.as_str(), p.text.as_str()))
            }
            Value::Condition(_) => {
                return Err(structure("a component has one if_ condition at most"));
            }
            _ => rest.push(p),
        }
    }
    Ok((control, rest))
}

fn structure(message: &str) -> TransformationError {
    TransformationError::Structure(message.into())
}

fn invalid(item: &str, reason: String) -> TransformationError {
    TransformationError::Invalid {
        item: item.to_string(),
        reason,
    }
}

impl Scope<'_> {
    fn test(&self, condition: &str, item: &str) -> Result<bool, TransformationError> {
        let toks = tokens(condition).map_err(|e| invalid(item, e))?;
        self.condition(&toks).map_err(|e| invalid(item, e))
    }

    /// Parameters with their variables set and their expressions worked out; `None` when
    /// nothing is left.
    fn component(&mut self, params: &[&Param]) -> Result<Option<Component>, TransformationError> {
        let mut out = Vec::new();
        for p in params {
            match &p.value {
                Value::Variable { name, expr } => {
                    let toks = tokens(expr).map_err(|e| invalid(&p.text, e))?;
                    let value = self.number(&toks).map_err(|e| invalid(&p.text, e))?;
                    self.vars.insert(name.clone(), value);
                }
                Value::Deferred => {
                    let (key, expr) = p.text.split_once('_').unwrap_or((&p.text, ""));
                    let toks = tokens(expr).map_err(|e| invalid(&p.text, e))?;
                    let value = match self.number(&toks).map_err(|e| invalid(&p.text, e))? {
                        Val::Number(n) => number_text(n),
                        Val::Text(t) => t,
                        Val::List(items) => items.join(":"),
                    };
                    out.push(parse_item(&format!("{key}_{value}"))?);
                }
                _ => out.push((*p).clone()),
            }
        }
        Ok((!out.is_empty()).then_some(Component { params: out }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            width: 1920.0,
            height: 1080.0,
            duration: 12.0,
            pages: 1.0,
            tags: vec!["sale".into(), "red".into()],
        }
    }

    fn resolved(text: &str) -> String {
        match Transformation::parse_str(text).and_then(|t| t.resolve(&facts())) {
            Ok(t) => t.to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn conditions_pick_components() {
        assert_eq!(
            resolved("if_ar_gte_1.0/c_scale,w_50/if_else/c_scale,w_200/if_end"),
            "c_scale,w_50"
        );
        assert_eq!(
            resolved("if_w_lt_1000/c_scale,w_50/if_else/c_scale,w_200/if_end/e_grayscale"),
            "c_scale,w_200/e_grayscale"
        );
        assert_eq!(
            resolved("if_w_gt_1000,c_scale,w_500/e_blur"),
            "c_scale,w_500/e_blur"
        );
        assert_eq!(resolved("if_h_gt_2000,c_scale,w_500/e_blur"), "e_blur");
        assert_eq!(
            resolved("if_w_gt_100_and_du_lt_10,w_1/if_w_gt_100_or_du_lt_10,w_2"),
            "w_2"
        );
        assert_eq!(resolved("if_!sale!_in_tags,w_3"), "w_3");
        assert_eq!(resolved("if_!sale:blue!_in_tags,w_3"), "");
        assert_eq!(resolved("if_!blue!_nin_tags,w_4"), "w_4");
        // As the SDKs write them: conditions beside the parameters they guard.
        assert_eq!(
            resolved("if_w_gt_1000,c_scale,w_100/if_else,c_scale,w_50/if_end"),
            "c_scale,w_100"
        );
        assert_eq!(
            resolved("if_w_gt_5000,c_scale,w_100/e_blur/if_else,c_scale,w_50/if_end,e_grayscale"),
            "c_scale,w_50/e_grayscale"
        );
    }

    #[test]
    fn variables_and_arithmetic_become_numbers() {
        assert_eq!(
            resolved("$size_300/c_fill,h_$size,w_$size"),
            "c_fill,h_300,w_300"
        );
        assert_eq!(resolved("c_scale,w_iw_div_4"), "c_scale,w_480");
        assert_eq!(
            resolved("$half_iw_div_2,c_scale,w_$half_sub_10"),
            "c_scale,w_950"
        );
        assert_eq!(resolved("c_scale,w_2_add_3_mul_4"), "c_scale,w_14");
        assert_eq!(resolved("du_idu_div_4"), "du_3");
        assert_eq!(resolved("$big_2_pow_3,c_scale,h_$big"), "c_scale,h_8");
    }

    #[test]
    fn mistakes_name_the_parameter() {
        for (text, says) in [
            ("w_$nope", "variable $nope is used before it is set"),
            ("c_scale,w_iw_div_0", "division by zero"),
            ("if_w_gt_100/w_5/if_else/w_6", "not closed with if_end"),
            ("if_else/w_5/if_end", "if_else without if"),
            (
                "if_w_gt_1/w_1/if_else/if_h_gt_1/w_2/if_end/if_end",
                "do not nest",
            ),
            ("if_w_gt_1/if_h_gt_1/if_end/if_end", "if_end without if"),
            ("if_w_gt_1,if_end", "one if_ condition at most"),
            ("if_end", "if_end without if"),
            ("if_fc_gt_1,w_5", "\"fc\" is not supported"),
            ("if_w_bigger_1,w_5", "\"bigger\" is not an operator"),
            ("$a_!x!,w_$a", "is not a number"),
            (&format!("w_1{}", "_add_1".repeat(40)), "more than 63 parts"),
        ] {
            let got = resolved(text);
            assert!(got.contains(says), "{text}: {got}");
        }
    }

    #[test]
    fn expressions_are_recognised_by_shape() {
        for yes in ["$w", "iw", "iw_div_2", "2_mul_3", "$a_add_1"] {
            assert!(is_expression(yes), "{yes}");
        }
        for no in ["100", "0.5", "auto", "auto:100", "ow", "2_x"] {
            assert!(!is_expression(no), "{no}");
        }
    }
}
