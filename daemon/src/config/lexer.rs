//! Splitting one `sshd_config` line into a keyword and its arguments.
//!
//! As OpenSSH: the keyword ends at whitespace or at one `=` (so `Port 22`, `Port=22` and
//! `Port = 22` are the same); arguments are separated by spaces or tabs; `"` and `'`
//! quote; a backslash escapes a quote, a backslash, or (outside quotes) a space; a word
//! that begins with `#` starts a comment.

/// Most arguments accepted on one line.
pub const MAX_ARGS_PER_LINE: usize = 1024;

/// Why a line could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexError {
    /// A keyword with nothing after it.
    NoArgument(String),
    /// A quote that is not closed.
    InvalidQuotes,
    /// More than [`MAX_ARGS_PER_LINE`] arguments.
    TooManyArguments,
}

/// One non-empty, non-comment line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The keyword as written.
    pub keyword: String,
    /// The arguments, unquoted.
    pub args: Vec<String>,
    /// Everything after the keyword (and its `=`), as written (`ForceCommand` takes it).
    pub rest: String,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\x0c')
}

/// Splits `line`; `Ok(None)` for a blank or comment line.
pub fn split_line(line: &str) -> Result<Option<Line>, LexError> {
    let line = line.trim_matches(is_space);
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let kw_end = line
        .find(|c: char| is_space(c) || c == '=')
        .unwrap_or(line.len());
    let keyword = &line[..kw_end];
    let mut rest = line[kw_end..].trim_start_matches(is_space);
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start_matches(is_space);
    }
    if keyword.is_empty() {
        // A line that starts with `=`: no keyword.
        return Err(LexError::NoArgument(String::new()));
    }
    if rest.is_empty() {
        return Err(LexError::NoArgument(keyword.to_string()));
    }
    Ok(Some(Line {
        keyword: keyword.to_string(),
        args: split_args(rest)?,
        rest: rest.to_string(),
    }))
}

/// Splits an argument string as OpenSSH's `argv_split` does, stopping at a comment.
pub fn split_args(s: &str) -> Result<Vec<String>, LexError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|&c| c == ' ' || c == '\t') {
            chars.next();
        }
        match chars.peek() {
            None | Some('#') => break,
            _ => {}
        }
        if out.len() >= MAX_ARGS_PER_LINE {
            return Err(LexError::TooManyArguments);
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            if c == '\\' {
                chars.next();
                match chars.peek() {
                    Some(&n)
                        if n == '"' || n == '\'' || n == '\\' || (quote.is_none() && n == ' ') =>
                    {
                        word.push(n);
                        chars.next();
                    }
                    _ => word.push('\\'),
                }
                continue;
            }
            match quote {
                None if c == ' ' || c == '\t' => break,
                None if c == '"' || c == '\'' => quote = Some(c),
                Some(q) if c == q => quote = None,
                _ => word.push(c),
            }
            chars.next();
        }
        if quote.is_some() {
            return Err(LexError::InvalidQuotes);
        }
        out.push(word);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> (String, Vec<String>) {
        let l = split_line(line).unwrap().unwrap();
        (l.keyword, l.args)
    }

    #[test]
    fn keyword_forms() {
        for line in [
            "Port 22",
            "Port=22",
            "Port = 22",
            "  Port\t22  ",
            "Port 22\r",
            "Port= 22",
        ] {
            assert_eq!(args(line), ("Port".into(), vec!["22".into()]), "{line:?}");
        }
    }

    #[test]
    fn blank_and_comment_lines_are_skipped() {
        for line in ["", "   ", "# Port 22", "   #x", "\t\x0c"] {
            assert_eq!(split_line(line), Ok(None), "{line:?}");
        }
    }

    #[test]
    fn quotes_escapes_and_comments() {
        assert_eq!(
            args(r#"Banner "/etc/my banner" # trailing"#).1,
            vec!["/etc/my banner".to_string()]
        );
        assert_eq!(
            args(r"ForceCommand a\ b 'c d' e\x").1,
            vec!["a b", "c d", r"e\x"]
        );
        assert_eq!(args(r#"X "say \"hi\"""#).1, vec![r#"say "hi""#]);
        assert_eq!(args(r#"X a"b c"d"#).1, vec!["ab cd"]);
        assert_eq!(args("X a#b").1, vec!["a#b"]);
        assert_eq!(args(r#"X """#).1, vec![""]);
    }

    #[test]
    fn errors() {
        assert_eq!(split_line("Port"), Err(LexError::NoArgument("Port".into())));
        assert_eq!(
            split_line("Port ="),
            Err(LexError::NoArgument("Port".into()))
        );
        assert_eq!(split_line(r#"Banner "x"#), Err(LexError::InvalidQuotes));
        assert_eq!(split_line("= 3"), Err(LexError::NoArgument(String::new())));
    }
}
