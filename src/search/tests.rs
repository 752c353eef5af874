//! Table tests of the expression grammar: what parses to what, and how mistakes are named.

use super::*;

fn m(field: Field, value: &str, prefix: bool) -> Expr {
    Expr::Term(Term {
        field,
        test: Test::Match(Text {
            value: value.into(),
            prefix,
        }),
    })
}

#[test]
fn terms_combine_with_and_or_not_and_parentheses() {
    let e = parse("resource_type:video AND (tags:cat OR tags:dog*) -format:mp4").unwrap();
    assert_eq!(
        e,
        Expr::And(vec![
            m(Field::ResourceType, "video", false),
            Expr::Or(vec![
                m(Field::Tags, "cat", false),
                m(Field::Tags, "dog", true)
            ]),
            Expr::Not(Box::new(m(Field::Format, "mp4", false))),
        ])
    );
    assert_eq!(
        parse("tags:a tags:b").unwrap(),
        Expr::And(vec![m(Field::Tags, "a", false), m(Field::Tags, "b", false)]),
        "terms side by side mean AND"
    );
    assert_eq!(parse("").unwrap(), Expr::And(Vec::new()));
}

#[test]
fn values_are_quoted_exact_compared_and_ranged() {
    assert_eq!(
        parse(r#"public_id="a b/c" AND filename:"my file""#).unwrap(),
        Expr::And(vec![
            Expr::Term(Term {
                field: Field::PublicId,
                test: Test::Exact("a b/c".into())
            }),
            m(Field::Filename, "my file", false),
        ])
    );
    assert_eq!(
        parse("bytes>10000").unwrap(),
        Expr::Term(Term {
            field: Field::Bytes,
            test: Test::Compare(Comparison::Greater, Bound::Number(10000.0))
        })
    );
    assert_eq!(
        parse("width:{100 TO 200]").unwrap(),
        Expr::Term(Term {
            field: Field::Width,
            test: Test::Range {
                from: Some(Bound::Number(100.0)),
                to: Some(Bound::Number(200.0)),
                from_inclusive: false,
                to_inclusive: true,
            }
        })
    );
    assert_eq!(
        parse("width:[100 TO *]").unwrap(),
        Expr::Term(Term {
            field: Field::Width,
            test: Test::Range {
                from: Some(Bound::Number(100.0)),
                to: None,
                from_inclusive: true,
                to_inclusive: true,
            }
        })
    );
    let Expr::Term(Term {
        test: Test::Compare(Comparison::GreaterOrEqual, Bound::Date(d)),
        ..
    }) = parse("created_at>=2026-01-02").unwrap()
    else {
        panic!("a date comparison");
    };
    assert!(d.starts_with("2026-01-02T00:00:00"), "{d}");
    assert!(matches!(
        parse("created_at>1d").unwrap(),
        Expr::Term(Term {
            test: Test::Compare(_, Bound::Date(_)),
            ..
        })
    ));
}

#[test]
fn mistakes_are_named() {
    for (text, message) in [
        ("colour:red", "unknown field \"colour\""),
        ("NOT tags:a", "it cannot start with NOT"),
        ("tags:a AND", "it ends too early"),
        ("(tags:a", "a '(' is not closed"),
        ("tags:\"a", "a quote is not closed"),
        ("*", "a bare '*' matches nothing"),
        ("tags:a*b", "'*' may only end a value"),
        ("bytes>big", "\"big\" is not a number"),
        ("format>jpg", "> does not apply to text fields"),
        ("created_at>yesterday", "is not a date"),
        ("width:[1 100]", "a range needs TO"),
        ("width:[1 TO 2", "a range is not closed"),
        ("tags:a)", "unexpected ')'"),
        ("context.colour>3", "> does not apply to text fields"),
        ("metadata.:x", "names no field"),
        ("metadata.shot>someday", "is not a date"),
    ] {
        let e = parse(text).expect_err(text);
        assert!(e.0.contains(message), "{text}: {e}");
        assert!(e.to_string().starts_with("Invalid search expression: "));
    }
}

#[test]
fn metadata_and_context_terms_name_their_key() {
    let keyed = |space, key: &str, test| {
        Expr::Keyed(Keyed {
            space,
            key: key.into(),
            test,
        })
    };
    assert_eq!(
        parse("metadata.rating>=4").unwrap(),
        keyed(
            Space::Metadata,
            "rating",
            Test::Compare(Comparison::GreaterOrEqual, Bound::Number(4.0))
        )
    );
    assert_eq!(
        parse("metadata.shot<2024-01-01").unwrap(),
        keyed(
            Space::Metadata,
            "shot",
            Test::Compare(
                Comparison::Less,
                Bound::Date("2024-01-01T00:00:00+00:00".into())
            )
        )
    );
    assert_eq!(
        parse("metadata.colour=dark_blue").unwrap(),
        keyed(Space::Metadata, "colour", Test::Exact("dark_blue".into()))
    );
    assert_eq!(
        parse("context.alt:\"a dog\"").unwrap(),
        keyed(
            Space::Context,
            "alt",
            Test::Match(Text {
                value: "a dog".into(),
                prefix: false
            })
        )
    );
    let Expr::Keyed(k) = parse("metadata.rating:[2 TO *]").unwrap() else {
        panic!("a keyed range");
    };
    assert!(matches!(
        k.test,
        Test::Range {
            from: Some(Bound::Number(2.0)),
            to: None,
            ..
        }
    ));
}
