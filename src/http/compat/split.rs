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

/// The splitter's state between chunks. An object that lies within one chunk is handed out as a
/// slice of it, with no copy; only one that spans chunks is put together.
#[derive(Debug)]
pub struct Splitter {
    /// The chunk being read, and where the scan goes on in it.
    chunk: Bytes,
    pos: usize,
    /// Where the current object starts in `chunk`, when it starts there.
    start: Option<usize>,
    /// The current object's bytes from the chunks before, when it started in one of them.
    carry: Vec<u8>,
    /// Inside an object: its `{` seen, its `}` not yet.
    open: bool,
    depth: usize,
    in_string: bool,
    escaped: bool,
    limit: usize,
}

impl Splitter {
    /// Objects of at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Splitter {
            chunk: Bytes::new(),
            pos: 0,
            start: None,
            carry: Vec::new(),
            open: false,
            depth: 0,
            in_string: false,
            escaped: false,
            limit,
        }
    }

    /// The next chunk of the body (normally once [`Splitter::next_object`] has found no more
    /// objects in the one before; bytes of it still unread are read first).
    pub fn push(&mut self, chunk: Bytes) {
        if self.open {
            // The open object's bytes so far are kept: the chunk they are in goes.
            let from = self.start.take().unwrap_or(0);
            self.carry.extend_from_slice(&self.chunk[from..self.pos]);
        }
        self.chunk = if self.pos < self.chunk.len() {
            let mut joined = self.chunk[self.pos..].to_vec();
            joined.extend_from_slice(&chunk);
            Bytes::from(joined)
        } else {
            chunk
        };
        self.pos = 0;
    }

    /// [`Splitter::push`] for borrowed bytes (copied).
    pub fn push_slice(&mut self, chunk: &[u8]) {
        self.push(Bytes::copy_from_slice(chunk));
    }

    /// The next whole object, if the bytes so far hold one.
    pub fn next_object(&mut self) -> Result<Option<Bytes>, SplitError> {
        if !self.open {
            let Some(skip) = self.chunk[self.pos..]
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            else {
                self.pos = self.chunk.len();
                return Ok(None);
            };
            self.pos += skip;
            match self.chunk[self.pos] {
                b'{' => {
                    self.start = Some(self.pos);
                    self.pos += 1;
                    self.open = true;
                    self.depth = 1;
                }
                other => return Err(SplitError::NotAnObject(other)),
            }
        }
        let closed = self.scan();
        let from = self.start.unwrap_or(0);
        let length = self.carry.len() + (self.pos - from);
        if length > self.limit {
            return Err(SplitError::TooLong(self.limit));
        }
        if !closed {
            return Ok(None);
        }
        self.open = false;
        self.start = None;
        let object = if self.carry.is_empty() {
            self.chunk.slice(from..self.pos)
        } else {
            self.carry.extend_from_slice(&self.chunk[..self.pos]);
            Bytes::from(std::mem::take(&mut self.carry))
        };
        Ok(Some(object))
    }

    /// Follows strings and nesting from `pos` to the end of the open object (true, `pos` just
    /// past its `}`) or of the chunk (false).
    fn scan(&mut self) -> bool {
        let bytes = &self.chunk[..];
        while self.pos < bytes.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    self.pos += 1;
                    continue;
                }
                // A string's content is skipped to its next quote or backslash at once.
                match memchr::memchr2(b'"', b'\\', &bytes[self.pos..]) {
                    None => self.pos = bytes.len(),
                    Some(at) => {
                        self.pos += at;
                        if bytes[self.pos] == b'\\' {
                            self.escaped = true;
                        } else {
                            self.in_string = false;
                        }
                        self.pos += 1;
                    }
                }
                continue;
            }
            let b = bytes[self.pos];
            self.pos += 1;
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        return true;
                    }
                }
                _ => {}
            }
        }
        false
    }

    /// At the end of the stream: an object left open is an error.
    pub fn finish(&self) -> Result<(), SplitError> {
        if self.open {
            Err(SplitError::Unfinished)
        } else {
            Ok(())
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
            splitter.push_slice(chunk.as_bytes());
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
    fn an_object_may_span_many_chunks() {
        let body = r#"{"a":"x\\"} {"b":{"c":"\"}"}} {}"#;
        let whole = split(&[body]);
        assert_eq!(whole.0.len(), 3);
        for i in 1..body.len() {
            for j in i..body.len() {
                let chunks = [&body[..i], &body[i..j], &body[j..]];
                assert_eq!(split(&chunks), whole, "cut at {i} and {j}");
            }
        }
    }

    #[test]
    fn an_object_within_a_chunk_is_handed_out_without_a_copy() {
        let chunk = Bytes::from_static(br#"{"a":1} {"b":"2"}"#);
        let range = chunk.as_ptr_range();
        let mut splitter = Splitter::new(1024);
        splitter.push(chunk.clone());
        let first = splitter.next_object().unwrap().unwrap();
        let second = splitter.next_object().unwrap().unwrap();
        assert_eq!(
            (&first[..], &second[..]),
            (&br#"{"a":1}"#[..], &br#"{"b":"2"}"#[..])
        );
        assert!(range.contains(&first.as_ptr()) && range.contains(&second.as_ptr()));
        assert_eq!(splitter.next_object(), Ok(None));
    }

    #[test]
    fn bytes_pushed_before_the_last_were_read_come_first() {
        let mut splitter = Splitter::new(1024);
        splitter.push_slice(br#"{"a":1} {"b""#);
        assert_eq!(splitter.next_object().unwrap().unwrap(), &br#"{"a":1}"#[..]);
        splitter.push_slice(br#":2} {"c":3}"#);
        assert_eq!(splitter.next_object().unwrap().unwrap(), &br#"{"b":2}"#[..]);
        assert_eq!(splitter.next_object().unwrap().unwrap(), &br#"{"c":3}"#[..]);
        assert_eq!(splitter.next_object(), Ok(None));
        assert_eq!(splitter.finish(), Ok(()));
    }

    #[test]
    fn what_is_not_objects_stops_the_stream() {
        assert_eq!(split(&["{} x"]).1, Err(SplitError::NotAnObject(b'x')));
        assert_eq!(split(&["[{}]"]).1, Err(SplitError::NotAnObject(b'[')));
        assert_eq!(split(&["{} {\"a\":"]).1, Err(SplitError::Unfinished));
        let mut splitter = Splitter::new(8);
        splitter.push_slice(br#"{"a":"0123456789"}"#);
        assert_eq!(splitter.next_object(), Err(SplitError::TooLong(8)));
    }
}
