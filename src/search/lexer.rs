//! Splitting an expression into tokens.

use super::SearchError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Plus,
    Minus,
    /// `:` `=` `<` `<=` `>` `>=`
    Op(&'static str),
    /// `[` or `{`, `]` or `}`.
    RangeOpen(bool),
    RangeClose(bool),
    To,
    Word(String),
    Quoted(String),
}

const SPECIAL: &str = "()[]{}:=<>\"";

pub(super) fn tokens(text: &str) -> Result<Vec<Token>, SearchError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | '[' | '{' | ']' | '}' | ':' | '=' => {
                out.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' | '{' => Token::RangeOpen(c == '['),
                    ']' | '}' => Token::RangeClose(c == ']'),
                    ':' => Token::Op(":"),
                    _ => Token::Op("="),
                });
                i += 1;
            }
            '<' | '>' => {
                let eq = chars.get(i + 1) == Some(&'=');
                out.push(Token::Op(match (c, eq) {
                    ('<', false) => "<",
                    ('<', true) => "<=",
                    ('>', false) => ">",
                    _ => ">=",
                }));
                i += if eq { 2 } else { 1 };
            }
            '"' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(SearchError("a quote is not closed".into())),
                        Some('"') => break,
                        Some('\\') if i + 1 < chars.len() => {
                            value.push(chars[i + 1]);
                            i += 2;
                            continue;
                        }
                        Some(&ch) => value.push(ch),
                    }
                    i += 1;
                }
                i += 1;
                out.push(Token::Quoted(value));
            }
            '+' | '-' if out.last().is_none_or(|t| !matches!(t, Token::Op(_))) => {
                out.push(if c == '+' { Token::Plus } else { Token::Minus });
                i += 1;
            }
            _ => {
                let mut word = String::new();
                while let Some(&ch) = chars.get(i) {
                    if ch.is_whitespace() || SPECIAL.contains(ch) {
                        break;
                    }
                    if ch == '\\' && i + 1 < chars.len() {
                        word.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    word.push(ch);
                    i += 1;
                }
                out.push(match word.as_str() {
                    "AND" | "&&" => Token::And,
                    "OR" | "||" => Token::Or,
                    "NOT" => Token::Not,
                    "TO" => Token::To,
                    _ => Token::Word(word),
                });
            }
        }
    }
    Ok(out)
}
