//! Cuts a stream of concatenated JSON objects (v3's streamed produce body) into one object at a
//! time, as the bytes arrive: nothing is parsed here, only strings and nesting are followed.

use axum::body::Bytes;

/// What cannot be cut into objects; the stream stops there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// Something other than whitespace between objects.
    NotAnObject(u8),
    /// An object longer than the limit.
    TooLong(usize),
    /// The stream ended inside an object.
    Unfinished,
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SplitError::NotAnObject(b) => write!(
                f,
                "the body must be JSON objects one after another; found {:?} between them",
                char::from(*b)
            ),
            SplitError::TooLong(limit) => {
                write!(
                    f,
                    "a record is over the limit of {limit} bytes (MAX_BODY_BYTES)"
                )
            }
            SplitError::Unfinished => f.write_str("the body ended inside a record"),
        }
    }
}

/// The splitter's state between chunks.
#[derive(Debug)]
pub struct Splitter {
    buf: Vec<u8>,
    /// Where the scan goes on in `buf`.
    pos: usize,
    /// Where the current object starts in `buf`, once its `{` is seen.
    start: Option<usize>,
    depth: usize,
    in_string: bool,
    escaped: bool,
    limit: usize,
}

impl Splitter {
    /// Objects of at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Splitter {
            buf: Vec::new(),
            pos: 0,
            start: None,
            depth: 0,
            in_string: false,
            escaped: false,
            limit,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        // Drop what was handed out already.
        let keep_from = self.start.unwrap_or(self.pos);
        if keep_from > 0 {
            self.buf.drain(..keep_from);
            self.pos -= keep_from;
            if let Some(start) = &mut self.start {
                *start = 0;
            }
        }
        self.buf.extend_from_slice(chunk);
    }

    /// The next whole object, if the bytes so far hold one.
    pub fn next_object(&mut self) -> Result<Option<Bytes>, SplitError> {
        while self.pos < self.buf.len() {
            let b = self.buf[self.pos];
            self.pos += 1;
            let Some(start) = self.start else {
                match b {
                    b' ' | b'\t' | b'\n' | b'\r' => continue,
                    b'{' => {
                        self.start = Some(self.pos - 1);
                        self.depth = 1;
                        continue;
                    }
                    other => return Err(SplitError::NotAnObject(other)),
                }
            };
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
            } else {
                match b {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            self.start = None;
                            return Ok(Some(Bytes::copy_from_slice(&self.buf[start..self.pos])));
                        }
                    }
                    _ => {}
                }
            }
            if self.pos - start > self.limit {
                return Err(SplitError::TooLong(self.limit));
            }
        }
        Ok(None)
    }

    /// At the end of the stream: an object left open is an error.
    pub fn finish(&self) -> Result<(), SplitError> {
        match self.start {
            Some(_) => Err(SplitError::Unfinished),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&str]) -> (Vec<String>, Result<(), SplitError>) {
        let mut splitter = Splitter::new(1024);
        let mut out = Vec::new();
        for chunk in chunks {
            splitter.push(chunk.as_bytes());
            loop {
                match splitter.next_object() {
                    Ok(Some(object)) => out.push(String::from_utf8(object.to_vec()).unwrap()),
                    Ok(None) => break,
                    Err(e) => return (out, Err(e)),
                }
            }
        }
        (out, splitter.finish())
    }

    #[test]
    fn objects_are_cut_wherever_the_chunks_end() {
        let body = r#"{"value":{"type":"JSON","data":{"a":"}{\"]"}}} {"b":[1,{"c":2}]}
{"d":"\\"}"#;
        let whole = split(&[body]);
        assert_eq!(
            whole.0,
            vec![
                r#"{"value":{"type":"JSON","data":{"a":"}{\"]"}}}"#,
                r#"{"b":[1,{"c":2}]}"#,
                r#"{"d":"\\"}"#
            ]
        );
        assert_eq!(whole.1, Ok(()));
        for at in 1..body.len() {
            let (head, tail) = body.split_at(at);
            assert_eq!(split(&[head, tail]), whole, "cut at {at}");
        }
    }

    #[test]
    fn what_is_not_objects_stops_the_stream() {
        assert_eq!(split(&["{} x"]).1, Err(SplitError::NotAnObject(b'x')));
        assert_eq!(split(&["[{}]"]).1, Err(SplitError::NotAnObject(b'[')));
        assert_eq!(split(&["{} {\"a\":"]).1, Err(SplitError::Unfinished));
        let mut splitter = Splitter::new(8);
        splitter.push(br#"{"a":"0123456789"}"#);
        assert_eq!(splitter.next_object(), Err(SplitError::TooLong(8)));
    }
}
