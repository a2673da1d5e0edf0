//! Instance readers and writers: OR-Library (Beasley) BQP, Gset/rudy
//! max-cut, and a plain sparse QUBO text format.

use std::collections::HashSet;
use std::io::{BufRead, Write};

use crate::coef::Coefficient;
use crate::{Bqm, Error, Vartype};

/// The most variables (vertices) a file may declare: 2²⁴, about 0.5 GiB of
/// model before any term, so a corrupt header fails fast instead of
/// exhausting memory.
pub(crate) const MAX_VARIABLES: usize = 1 << 24;

/// Variables a declared size may claim per token that follows it (see
/// [`read_beasley`]): a model needs no entries, but a header that declares
/// millions of variables in a file of a few kilobytes is corrupt.
pub(crate) const VARIABLES_PER_TOKEN: u128 = 64;

/// Whitespace-separated tokens with their 1-based line numbers.
struct Tokens {
    tokens: Vec<(usize, String)>,
    pos: usize,
}

impl Tokens {
    fn read(reader: impl BufRead, comment: Option<char>) -> Result<Self, Error> {
        let mut tokens = Vec::new();
        for (k, line) in reader.lines().enumerate() {
            let line = line?;
            let line = match comment {
                Some(c) => line.split(c).next().unwrap_or(""),
                None => &line,
            };
            tokens.extend(line.split_whitespace().map(|t| (k + 1, t.to_string())));
        }
        Ok(Tokens { tokens, pos: 0 })
    }

    fn next(&mut self, what: &str) -> Result<(usize, &str), Error> {
        let (line, text) = self.tokens.get(self.pos).ok_or_else(|| Error::Parse {
            line: 0,
            message: format!("expected {what}"),
        })?;
        self.pos += 1;
        Ok((*line, text.as_str()))
    }

    fn number<T: Coefficient>(&mut self, what: &str) -> Result<(usize, T), Error> {
        let (line, text) = self.next(what)?;
        T::parse(text)
            .map(|v| (line, v))
            .ok_or_else(|| Error::Parse {
                line,
                message: format!("expected {what}, found `{text}`"),
            })
    }

    /// A variable count, at most [`MAX_VARIABLES`] and at most what the rest
    /// of the input can justify: [`VARIABLES_PER_TOKEN`] per token still
    /// unread, plus 4,096. A few bytes of headers declaring huge models thus
    /// fail before anything is allocated.
    fn size(&mut self, what: &str) -> Result<(usize, usize), Error> {
        let (line, n) = self.count(what)?;
        if n > MAX_VARIABLES {
            return Err(Error::Parse {
                line,
                message: format!("{n} variables exceed the reader's limit of {MAX_VARIABLES}"),
            });
        }
        let remaining = self.tokens.len() - self.pos;
        let justified = 4096 + VARIABLES_PER_TOKEN * remaining as u128;
        if n as u128 > justified {
            return Err(Error::Parse {
                line,
                message: format!(
                    "{n} variables declared with only {remaining} tokens left in the input \
                     (at most {justified} accepted)"
                ),
            });
        }
        Ok((line, n))
    }

    fn count(&mut self, what: &str) -> Result<(usize, usize), Error> {
        let (line, text) = self.next(what)?;
        text.parse().map(|v| (line, v)).map_err(|_| Error::Parse {
            line,
            message: format!("expected {what} (a count), found `{text}`"),
        })
    }

    /// A 1-based index in `1..=n`, returned 0-based.
    fn index1(&mut self, n: usize) -> Result<(usize, usize), Error> {
        let (line, i) = self.count("a variable index")?;
        if i == 0 || i > n {
            return Err(Error::Parse {
                line,
                message: format!("variable index {i} is outside 1..={n}"),
            });
        }
        Ok((line, i - 1))
    }

    fn finish(&self) -> Result<(), Error> {
        match self.tokens.get(self.pos) {
            Some((line, text)) => Err(Error::Parse {
                line: *line,
                message: format!("unexpected trailing data `{text}`"),
            }),
            None => Ok(()),
        }
    }
}

/// Reads an OR-Library BQP file (Beasley): `K`, then `K` blocks of `n m`
/// and `m` lines `i j q` (1-based). The published problem maximizes
/// `f(x) = Σᵢ Σⱼ qᵢⱼ xᵢ xⱼ` with a symmetric `q`, so a line `i j q` with
/// `i ≠ j` contributes `2q xᵢ xⱼ`.
///
/// Returns one binary minimization model per block with `E(x) = -f(x)`:
/// linear `-qᵢᵢ`, quadratic `-2qᵢⱼ`. The best-known value of an instance is
/// `-E` of its best state. A pair listed twice (in either order) is an error.
pub fn read_beasley(reader: impl BufRead) -> Result<Vec<Bqm<i64>>, Error> {
    let mut t = Tokens::read(reader, None)?;
    let (_, k) = t.count("the number of instances")?;
    let mut out = Vec::with_capacity(k.min(1024));
    for _ in 0..k {
        let (_, n) = t.size("the number of variables")?;
        let (_, m) = t.count("the number of entries")?;
        let mut bqm = Bqm::with_variables(n, Vartype::Binary)?;
        let mut seen = HashSet::new();
        for _ in 0..m {
            let (line, i) = t.index1(n)?;
            let (_, j) = t.index1(n)?;
            let (_, q) = t.number::<i64>("an integer coefficient")?;
            if !seen.insert((i.min(j), i.max(j))) {
                return Err(Error::DuplicateEntry { line, i, j });
            }
            let neg = |v: i64| {
                v.checked_neg().ok_or(Error::Overflow {
                    what: "a coefficient",
                })
            };
            if i == j {
                bqm.add_linear(i, neg(q)?)?;
            } else {
                let b = q.checked_mul(-2).ok_or(Error::Overflow {
                    what: "a coefficient",
                })?;
                bqm.add_quadratic(i, j, b)?;
            }
        }
        out.push(bqm);
    }
    t.finish()?;
    Ok(out)
}

/// Writes binary minimization models in OR-Library BQP format (the inverse
/// of [`read_beasley`]). Quadratic biases must be even (they are `-2q`).
pub fn write_beasley(models: &[Bqm<i64>], mut out: impl Write) -> Result<(), Error> {
    writeln!(out, "{}", models.len())?;
    for bqm in models {
        if bqm.vartype() != Vartype::Binary {
            return Err(Error::InvalidState {
                reason: "OR-Library files hold binary models; call to_qubo() first".into(),
            });
        }
        let linear: Vec<(usize, i64)> = bqm
            .linear_biases()
            .iter()
            .copied()
            .enumerate()
            .filter(|&(_, a)| a != 0)
            .collect();
        writeln!(
            out,
            "{} {}",
            bqm.num_variables(),
            linear.len() + bqm.num_interactions()
        )?;
        for (i, a) in linear {
            let q = a.checked_neg().ok_or(Error::Overflow {
                what: "a coefficient",
            })?;
            writeln!(out, "{} {} {}", i + 1, i + 1, q)?;
        }
        for (i, j, b) in bqm.interactions() {
            let q = b.divide_exact(-2).ok_or(Error::InexactConversion)?;
            writeln!(out, "{} {} {}", i + 1, j + 1, q)?;
        }
    }
    Ok(())
}

/// A weighted max-cut instance (Gset / rudy format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxCut {
    /// Number of vertices.
    pub num_vertices: usize,
    /// Edges `(u, v, weight)`, 0-based, each once.
    pub edges: Vec<(usize, usize, i64)>,
}

impl MaxCut {
    /// The binary model whose energy is minus the cut weight:
    /// `E(x) = Σ_{(u,v)} w (2 xᵤ xᵥ - xᵤ - xᵥ)`.
    pub fn to_bqm(&self) -> Result<Bqm<i64>, Error> {
        let mut bqm = Bqm::with_variables(self.num_vertices, Vartype::Binary)?;
        for &(u, v, w) in &self.edges {
            let neg = w.checked_neg().ok_or(Error::Overflow {
                what: "an edge weight",
            })?;
            bqm.add_linear(u, neg)?;
            bqm.add_linear(v, neg)?;
            bqm.add_quadratic(
                u,
                v,
                w.checked_mul(2).ok_or(Error::Overflow {
                    what: "an edge weight",
                })?,
            )?;
        }
        Ok(bqm)
    }

    /// The weight of the edges cut by a 0/1 (or -1/+1) side assignment.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] for a side per vertex missing;
    /// [`Error::IndexOutOfRange`] for an edge naming a vertex that does not
    /// exist (the fields are public); [`Error::Overflow`] past `i64`.
    pub fn cut_value(&self, side: &[i8]) -> Result<i64, Error> {
        if side.len() != self.num_vertices {
            return Err(Error::InvalidState {
                reason: format!(
                    "{} sides for {} vertices; pass one per vertex",
                    side.len(),
                    self.num_vertices
                ),
            });
        }
        let mut cut = 0i64;
        for &(u, v, w) in &self.edges {
            let (Some(&su), Some(&sv)) = (side.get(u), side.get(v)) else {
                return Err(Error::IndexOutOfRange {
                    index: u.max(v),
                    num_variables: self.num_vertices,
                });
            };
            if (su > 0) != (sv > 0) {
                cut = cut.checked_add(w).ok_or(Error::Overflow {
                    what: "the cut weight",
                })?;
            }
        }
        Ok(cut)
    }
}

/// Reads a Gset/rudy max-cut file: `n m`, then `m` lines `u v w` (1-based).
/// Self-loops and repeated edges are errors.
pub fn read_gset(reader: impl BufRead) -> Result<MaxCut, Error> {
    let mut t = Tokens::read(reader, None)?;
    let (_, n) = t.size("the number of vertices")?;
    let (_, m) = t.count("the number of edges")?;
    let mut edges = Vec::with_capacity(m.min(1 << 24));
    let mut seen = HashSet::new();
    for _ in 0..m {
        let (line, u) = t.index1(n)?;
        let (_, v) = t.index1(n)?;
        let (_, w) = t.number::<i64>("an integer edge weight")?;
        if u == v {
            return Err(Error::Parse {
                line,
                message: format!("edge ({}, {}) is a self-loop", u + 1, v + 1),
            });
        }
        if !seen.insert((u.min(v), u.max(v))) {
            return Err(Error::DuplicateEntry { line, i: u, j: v });
        }
        edges.push((u, v, w));
    }
    t.finish()?;
    Ok(MaxCut {
        num_vertices: n,
        edges,
    })
}

/// Writes a max-cut instance in Gset/rudy format.
pub fn write_gset(graph: &MaxCut, mut out: impl Write) -> Result<(), Error> {
    writeln!(out, "{} {}", graph.num_vertices, graph.edges.len())?;
    for &(u, v, w) in &graph.edges {
        writeln!(out, "{} {} {}", u + 1, v + 1, w)?;
    }
    Ok(())
}

/// Reads the plain sparse text format:
///
/// ```text
/// # comments run to the end of the line
/// binary 3        # vartype (binary or spin) and number of variables, first
/// offset 0.5      # optional
/// 0 0 -1          # i == j: linear bias (0-based)
/// 0 1 2           # i != j: quadratic bias
/// ```
///
/// Every variable and pair appears at most once.
pub fn read_sparse<T: Coefficient>(reader: impl BufRead) -> Result<Bqm<T>, Error> {
    let mut t = Tokens::read(reader, Some('#'))?;
    let (line, kind) = t.next("the vartype (binary or spin)")?;
    let vartype = match kind {
        "binary" => Vartype::Binary,
        "spin" => Vartype::Spin,
        other => {
            return Err(Error::Parse {
                line,
                message: format!("expected `binary` or `spin`, found `{other}`"),
            });
        }
    };
    let (_, n) = t.size("the number of variables")?;
    let mut bqm = Bqm::with_variables(n, vartype)?;
    let mut seen = HashSet::new();
    let mut offset_seen = false;
    while t.pos < t.tokens.len() {
        let (line, first) = t.next("an entry")?;
        if first == "offset" {
            if offset_seen {
                return Err(Error::Parse {
                    line,
                    message: "the offset appears twice".into(),
                });
            }
            offset_seen = true;
            let (_, v) = t.number::<T>("the offset value")?;
            bqm.add_offset(v)?;
            continue;
        }
        let i = index0(line, first, n)?;
        let (line_j, j_text) = t.next("a second index")?;
        let j = index0(line_j, j_text, n)?;
        let (_, v) = t.number::<T>("a bias")?;
        if !seen.insert((i.min(j), i.max(j))) {
            return Err(Error::DuplicateEntry { line, i, j });
        }
        if i == j {
            bqm.add_linear(i, v)?
        } else {
            bqm.add_quadratic(i, j, v)?
        }
    }
    Ok(bqm)
}

fn index0(line: usize, text: &str, n: usize) -> Result<usize, Error> {
    match text.parse::<usize>() {
        Ok(i) if i < n => Ok(i),
        Ok(i) => Err(Error::Parse {
            line,
            message: format!("variable index {i} is outside 0..{n}"),
        }),
        Err(_) => Err(Error::Parse {
            line,
            message: format!("expected a variable index or `offset`, found `{text}`"),
        }),
    }
}

/// Writes a model in the plain sparse text format (see [`read_sparse`]).
pub fn write_sparse<T: Coefficient>(bqm: &Bqm<T>, mut out: impl Write) -> Result<(), Error> {
    let kind = match bqm.vartype() {
        Vartype::Binary => "binary",
        Vartype::Spin => "spin",
    };
    writeln!(out, "{kind} {}", bqm.num_variables())?;
    if bqm.offset() != T::ZERO {
        writeln!(out, "offset {:?}", bqm.offset())?;
    }
    for (i, &a) in bqm.linear_biases().iter().enumerate() {
        if a != T::ZERO {
            writeln!(out, "{i} {i} {a:?}")?;
        }
    }
    for (i, j, b) in bqm.interactions() {
        writeln!(out, "{i} {j} {b:?}")?;
    }
    Ok(())
}
