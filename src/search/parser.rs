//! Tokens into an [`Expr`]: `OR` binds loosest, then `AND` (also implied between terms), then
//! `NOT`, `+` and `-`.

use chrono::{Duration, Utc};

use super::lexer::{Token, tokens};
use super::{Bound, Comparison, Expr, Field, Keyed, Kind, SearchError, Space, Term, Test, Text};

/// Parses a search expression; an empty one matches everything.
pub fn parse(expression: &str) -> Result<Expr, SearchError> {
    let tokens = tokens(expression)?;
    if tokens.first() == Some(&Token::Not) {
        return Err(SearchError("it cannot start with NOT".into()));
    }
    if tokens.is_empty() {
        return Ok(Expr::And(Vec::new()));
    }
    let mut p = Parser { tokens, at: 0 };
    let expr = p.or()?;
    match p.peek() {
        None => Ok(expr),
        Some(t) => Err(SearchError(format!("unexpected {}", shown(t)))),
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

fn shown(t: &Token) -> String {
    match t {
        Token::Word(w) | Token::Quoted(w) => format!("{w:?}"),
        Token::Close => "')'".into(),
        Token::RangeClose(_) => "the end of a range".into(),
        Token::Op(op) => format!("'{op}'"),
        other => format!("{other:?}").to_lowercase(),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, SearchError> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, SearchError> {
        let mut parts = vec![self.unary()?];
        loop {
            match self.peek() {
                Some(Token::And) => {
                    self.at += 1;
                    parts.push(self.unary()?);
                }
                None | Some(Token::Or | Token::Close) => break,
                Some(_) => parts.push(self.unary()?),
            }
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Expr, SearchError> {
        match self.peek() {
            Some(Token::Not | Token::Minus) => {
                self.at += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some(Token::Plus) => {
                self.at += 1;
                self.unary()
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, SearchError> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(SearchError("a '(' is not closed".into())),
                }
            }
            Some(Token::Word(word)) if matches!(self.peek(), Some(Token::Op(_))) => {
                let Some(Token::Op(op)) = self.next() else {
                    return Err(SearchError("an operator is missing".into()));
                };
                if let Some((space, key)) = keyed(&word)? {
                    let kind = match space {
                        Space::Metadata => Kind::Loose,
                        Space::Context => Kind::Text,
                    };
                    return Ok(Expr::Keyed(Keyed {
                        space,
                        key,
                        test: self.test(kind, op)?,
                    }));
                }
                let field = Field::parse(&word)
                    .ok_or_else(|| SearchError(format!("unknown field {word:?}")))?;
                Ok(Expr::Term(Term {
                    field,
                    test: self.test(field.kind(), op)?,
                }))
            }
            Some(Token::Word(w)) => Ok(Expr::Any(text(&w)?)),
            Some(Token::Quoted(q)) => Ok(Expr::Any(Text {
                value: q,
                prefix: false,
            })),
            Some(t) => Err(SearchError(format!("unexpected {}", shown(&t)))),
            None => Err(SearchError("it ends too early".into())),
        }
    }

    /// What follows `field op`.
    fn test(&mut self, kind: Kind, op: &str) -> Result<Test, SearchError> {
        if let Some(Token::RangeOpen(from_inclusive)) = self.peek().cloned() {
            if op != ":" {
                return Err(SearchError(format!("a range follows ':', not '{op}'")));
            }
            self.at += 1;
            let from = self.bound_or_open(kind)?;
            if self.next() != Some(Token::To) {
                return Err(SearchError("a range needs TO".into()));
            }
            let to = self.bound_or_open(kind)?;
            let Some(Token::RangeClose(to_inclusive)) = self.next() else {
                return Err(SearchError("a range is not closed with ']' or '}'".into()));
            };
            return Ok(Test::Range {
                from,
                to,
                from_inclusive,
                to_inclusive,
            });
        }
        let value = match self.next() {
            Some(Token::Word(w)) => (w, false),
            Some(Token::Quoted(q)) => (q, true),
            _ => return Err(SearchError(format!("a value is missing after '{op}'"))),
        };
        let comparison = match op {
            "<" => Some(Comparison::Less),
            "<=" => Some(Comparison::LessOrEqual),
            ">" => Some(Comparison::Greater),
            ">=" => Some(Comparison::GreaterOrEqual),
            _ => None,
        };
        match (comparison, kind) {
            (Some(c), Kind::Number | Kind::Date | Kind::Loose) => {
                Ok(Test::Compare(c, bound(kind, &value.0)?))
            }
            (Some(_), Kind::Text) => {
                Err(SearchError(format!("{op} does not apply to text fields")))
            }
            (None, Kind::Number | Kind::Date) => {
                let b = bound(kind, &value.0)?;
                Ok(Test::Range {
                    from: Some(b.clone()),
                    to: Some(b),
                    from_inclusive: true,
                    to_inclusive: true,
                })
            }
            (None, Kind::Text | Kind::Loose) if op == "=" => Ok(Test::Exact(value.0)),
            (None, Kind::Text | Kind::Loose) if value.1 => Ok(Test::Match(Text {
                value: value.0,
                prefix: false,
            })),
            (None, Kind::Text | Kind::Loose) => Ok(Test::Match(text(&value.0)?)),
        }
    }

    fn bound_or_open(&mut self, kind: Kind) -> Result<Option<Bound>, SearchError> {
        match self.next() {
            Some(Token::Word(w)) if w == "*" => Ok(None),
            Some(Token::Word(w) | Token::Quoted(w)) => bound(kind, &w).map(Some),
            _ => Err(SearchError("a range needs two ends".into())),
        }
    }
}

/// A word as text to match: `*` only at the end, and not alone.
fn text(word: &str) -> Result<Text, SearchError> {
    let (value, prefix) = match word.strip_suffix('*') {
        Some(v) => (v, true),
        None => (word, false),
    };
    if value.is_empty() {
        return Err(SearchError(
            "a bare '*' matches nothing; leave the expression empty".into(),
        ));
    }
    if value.contains('*') {
        return Err(SearchError(format!("{word:?}: '*' may only end a value")));
    }
    Ok(Text {
        value: value.to_string(),
        prefix,
    })
}

/// A number, or a date (ISO 8601, or relative: `3d` is three days ago; `h`, `d`, `w`).
fn bound(kind: Kind, value: &str) -> Result<Bound, SearchError> {
    let number = value.parse::<f64>().ok().filter(|n| n.is_finite());
    match (kind, number) {
        (Kind::Number | Kind::Loose, Some(n)) => Ok(Bound::Number(n)),
        (Kind::Number, None) => Err(SearchError(format!("{value:?} is not a number"))),
        (Kind::Text, _) => Err(SearchError(format!(
            "{value:?}: text fields do not compare or take ranges"
        ))),
        _ => date(value).map(Bound::Date),
    }
}

/// `metadata.<id>` or `context.<key>`: the space and the key; `None` for other fields.
fn keyed(word: &str) -> Result<Option<(Space, String)>, SearchError> {
    let Some((space, key)) = word.split_once('.') else {
        return Ok(None);
    };
    let space = match space {
        "metadata" => Space::Metadata,
        "context" => Space::Context,
        _ => return Ok(None),
    };
    if key.is_empty() {
        return Err(SearchError(format!("{word:?} names no field")));
    }
    Ok(Some((space, key.to_string())))
}

fn date(value: &str) -> Result<String, SearchError> {
    let bad = || {
        SearchError(format!(
            "{value:?} is not a date (ISO 8601, or 1h, 2d, 3w ago)"
        ))
    };
    let relative = value
        .char_indices()
        .last()
        .and_then(|(i, unit)| Some((value[..i].parse::<i64>().ok()?, unit)));
    if let Some((n, unit)) = relative {
        let span = match unit {
            'h' => Duration::try_hours(n),
            'd' => Duration::try_days(n),
            'w' => Duration::try_weeks(n),
            _ => None,
        }
        .ok_or_else(bad)?;
        return Ok((Utc::now() - span).to_rfc3339());
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc).to_rfc3339());
    }
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().to_rfc3339())
        .ok_or_else(bad)
}
