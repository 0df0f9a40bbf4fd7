//! Diffie-Hellman groups for group exchange (RFC 4419): the `/etc/ssh/moduli` file
//! format, the built-in RFC 3526 groups used when it is absent, and the choice of a
//! group for a client's `min`/`n`/`max`.
//!
//! A moduli line is `timestamp type tests tries size generator modulus`, where `type`
//! 2 means a safe prime, `tests` is a bit mask (bit 0 = "composite"), `size` is the
//! prime's bit length minus one, and generator and modulus are hexadecimal. Lines that
//! are comments, malformed or unsuitable are skipped, as OpenSSH skips them.
//!
//! The transport reads no file: a server either gives it a fixed list
//! ([`GexGroups::fixed`], the built-in groups by default) or chooses each group itself
//! ([`GexGroups::from_caller`]: the transport raises [`crate::Event::GroupNeeded`] with a
//! [`GroupRequest`], the caller answers [`crate::Transport::provide_group`], typically
//! with [`GroupRequest::choose`] over the groups of its moduli file).
//!
//! ```
//! use sisu_kex::moduli::{parse_moduli, DhGroup};
//! let groups = parse_moduli("# comment\n20240101000000 2 6 100 2047 2 FFFF\n");
//! assert!(groups.is_empty()); // the prime is not 2048 bits long: skipped
//! assert_eq!(DhGroup::builtin().len(), 5);
//! assert_eq!(DhGroup::group14().bits(), 2048);
//! ```

use crate::method::groups;
use std::fmt;
use std::sync::Arc;

/// The smallest group a group-exchange server hands out (OpenSSH's `DH_GRP_MIN`).
pub const GEX_MIN_BITS: u32 = 2048;
/// The largest group a group-exchange server hands out (OpenSSH's `DH_GRP_MAX`).
pub const GEX_MAX_BITS: u32 = 8192;
/// Most lines read from a moduli file.
pub const MAX_MODULI_LINES: usize = 100_000;
/// Longest moduli line accepted (an 8192-bit prime is 2048 hex digits).
pub const MAX_MODULI_LINE: usize = 4096;

/// Why a group was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupError(pub &'static str);

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for GroupError {}

/// A MODP group: an odd prime `p` and a generator `g`, both as minimal big-endian bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct DhGroup {
    p: Vec<u8>,
    g: Vec<u8>,
}

impl fmt::Debug for DhGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DhGroup({} bits, g = {:02x?})", self.bits(), self.g)
    }
}

fn strip(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    &v[start..]
}

/// Compares two unsigned big-endian numbers.
pub(crate) fn cmp_be(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let (a, b) = (strip(a), strip(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Whether `1 < y < p - 1` (`p` odd): the range RFC 4253 §8 and RFC 4419 require of
/// public values.
pub(crate) fn in_public_range(y: &[u8], p: &[u8]) -> bool {
    let y = strip(y);
    let mut p_minus_1 = strip(p).to_vec();
    if let Some(last) = p_minus_1.last_mut() {
        *last &= !1; // p is odd
    }
    let at_least_two = y.len() > 1 || y.first().is_some_and(|&b| b >= 2);
    at_least_two && cmp_be(y, &p_minus_1) == std::cmp::Ordering::Less
}

fn hex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s
        .bytes()
        .map(|c| (c as char).to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(digits.len() / 2 + 1);
    let odd = digits.len() % 2;
    if odd == 1 {
        out.push(digits[0]);
    }
    for pair in digits[odd..].chunks(2) {
        out.push(pair[0] << 4 | pair[1]);
    }
    Some(out)
}

impl DhGroup {
    /// A group from `p` and `g` (big-endian). `p` must be odd and 1024 to 8192 bits,
    /// and `1 < g < p - 1`.
    pub fn new(p: &[u8], g: &[u8]) -> Result<Self, GroupError> {
        let p = strip(p);
        let g = strip(g);
        if !matches!(p.last(), Some(b) if b & 1 == 1) {
            return Err(GroupError("modulus is even"));
        }
        let group = DhGroup {
            p: p.to_vec(),
            g: g.to_vec(),
        };
        if !(1024..=8192).contains(&group.bits()) {
            return Err(GroupError("modulus size outside 1024..8192 bits"));
        }
        if !in_public_range(g, p) {
            return Err(GroupError("generator outside 2..p-2"));
        }
        Ok(group)
    }

    /// A built-in group from its hex prime (trusted constants: not re-checked at run
    /// time; `built_in_groups_are_valid` checks each against [`DhGroup::new`]).
    pub(crate) fn from_hex(p: &str, g: u8) -> Self {
        DhGroup {
            p: hex(p).unwrap_or_default(),
            g: vec![g],
        }
    }

    /// The prime, big-endian.
    pub fn p(&self) -> &[u8] {
        &self.p
    }

    /// The generator, big-endian.
    pub fn g(&self) -> &[u8] {
        &self.g
    }

    /// The prime's size in bits.
    pub fn bits(&self) -> u32 {
        match self.p.first() {
            Some(&b) => (self.p.len() as u32 - 1) * 8 + (8 - b.leading_zeros()),
            None => 0,
        }
    }

    /// RFC 3526 group 14 (2048 bits).
    pub fn group14() -> Self {
        Self::from_hex(groups::GROUP14, 2)
    }

    /// RFC 3526 group 16 (4096 bits).
    pub fn group16() -> Self {
        Self::from_hex(groups::GROUP16, 2)
    }

    /// RFC 3526 group 18 (8192 bits).
    pub fn group18() -> Self {
        Self::from_hex(groups::GROUP18, 2)
    }

    /// The groups a group-exchange server uses without a moduli file: RFC 3526 groups
    /// 14 to 18 (2048, 3072, 4096, 6144 and 8192 bits).
    pub fn builtin() -> Vec<DhGroup> {
        vec![
            Self::group14(),
            Self::from_hex(groups::GROUP15, 2),
            Self::group16(),
            Self::from_hex(groups::GROUP17, 2),
            Self::group18(),
        ]
    }
}

/// Parses one moduli line; `None` for comments and for lines OpenSSH would skip.
pub fn parse_moduli_line(line: &str) -> Option<DhGroup> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') || line.len() > MAX_MODULI_LINE {
        return None;
    }
    let f: Vec<&str> = line.split_whitespace().collect();
    let [_time, kind, tests, tries, size, gen, modulus] = f[..] else {
        return None;
    };
    let num = |s: &str| s.parse::<u32>().ok();
    // Type 2: safe prime. Tests: not flagged composite, and some test was run.
    if num(kind)? != 2 {
        return None;
    }
    let tests = num(tests)?;
    if tests & 1 != 0 || tests & !1 == 0 || num(tries)? == 0 {
        return None;
    }
    let group = DhGroup::new(&hex(modulus)?, &hex(gen)?).ok()?;
    (group.bits() == num(size)?.checked_add(1)?).then_some(group)
}

/// Where Diffie-Hellman group exchange gets its group for a client's request: from a
/// fixed list chosen inside the transport (the built-in RFC 3526 groups by default,
/// for clients and tests), or from the transport's caller, asked with
/// [`crate::Event::GroupNeeded`] and answered with
/// [`crate::Transport::provide_group`] (a server that reads a moduli file: the file is
/// the caller's business, the transport never reads one).
#[derive(Clone)]
pub struct GexGroups(Option<Arc<[DhGroup]>>);

impl GexGroups {
    /// These groups (the built-in ones when `groups` is empty).
    pub fn fixed(groups: Vec<DhGroup>) -> Self {
        GexGroups(Some(if groups.is_empty() {
            DhGroup::builtin().into()
        } else {
            groups.into()
        }))
    }

    /// No list here: the caller chooses each group ([`crate::Event::GroupNeeded`]).
    pub fn from_caller() -> Self {
        GexGroups(None)
    }

    /// The fixed list, or `None` when the caller chooses.
    pub fn get(&self) -> Option<&[DhGroup]> {
        self.0.as_deref()
    }
}

impl Default for GexGroups {
    /// The built-in RFC 3526 groups.
    fn default() -> Self {
        Self::fixed(Vec::new())
    }
}

impl From<Vec<DhGroup>> for GexGroups {
    fn from(groups: Vec<DhGroup>) -> Self {
        Self::fixed(groups)
    }
}

impl std::fmt::Debug for GexGroups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(g) => write!(f, "GexGroups({} groups)", g.len()),
            None => f.write_str("GexGroups(chosen by the caller)"),
        }
    }
}

/// A group-exchange request as the server must answer it: the client's `min`, `n`,
/// `max` clamped to [`GEX_MIN_BITS`]..=[`GEX_MAX_BITS`] (the exchange hash keeps the
/// client's own numbers). The group given back must be of `min..=max` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupRequest {
    /// Smallest acceptable size, in bits.
    pub min: u32,
    /// Preferred size, in bits.
    pub n: u32,
    /// Largest acceptable size, in bits.
    pub max: u32,
}

impl GroupRequest {
    /// Whether `group` answers this request (its size is within `min..=max`).
    pub fn accepts(&self, group: &DhGroup) -> bool {
        (self.min..=self.max).contains(&group.bits())
    }

    /// The group [`choose_group`] picks from `groups`, choosing among several of the
    /// same size with `rng`.
    pub fn choose<'a>(
        &self,
        groups: &'a [DhGroup],
        rng: &mut dyn rand_core::RngCore,
    ) -> Option<&'a DhGroup> {
        choose_group(groups, self.min, self.n, self.max, |count| {
            (rng.next_u32() as usize) % count
        })
    }
}

/// Parses a moduli file's text, keeping the usable groups (at most
/// [`MAX_MODULI_LINES`] lines are read).
pub fn parse_moduli(text: &str) -> Vec<DhGroup> {
    text.lines()
        .take(MAX_MODULI_LINES)
        .filter_map(parse_moduli_line)
        .collect()
}

/// The group a server hands a client that asked for `min`/`n`/`max` bits (already
/// clamped to [`GEX_MIN_BITS`]..[`GEX_MAX_BITS`]): among the groups within `min..=max`,
/// those of the smallest size at least `n`, or else of the largest size below `n`;
/// `pick` chooses among several of that size (given their count).
pub fn choose_group(
    groups: &[DhGroup],
    min: u32,
    n: u32,
    max: u32,
    pick: impl FnOnce(usize) -> usize,
) -> Option<&DhGroup> {
    let fit: Vec<&DhGroup> = groups
        .iter()
        .filter(|g| (min..=max).contains(&g.bits()))
        .collect();
    let best = fit
        .iter()
        .map(|g| g.bits())
        .filter(|&b| b >= n)
        .min()
        .or_else(|| fit.iter().map(|g| g.bits()).max())?;
    let same: Vec<&DhGroup> = fit.into_iter().filter(|g| g.bits() == best).collect();
    let i = pick(same.len()).min(same.len() - 1);
    Some(same[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_groups_have_their_sizes() {
        let sizes: Vec<u32> = DhGroup::builtin().iter().map(DhGroup::bits).collect();
        assert_eq!(sizes, [2048, 3072, 4096, 6144, 8192]);
        assert!(DhGroup::builtin().iter().all(|g| g.g() == [2]));
    }

    #[test]
    fn built_in_groups_are_valid() {
        let mut all = DhGroup::builtin();
        #[cfg(feature = "legacy")]
        all.push(crate::method::legacy::group1());
        for g in all {
            assert!(!g.p().is_empty());
            assert_eq!(DhGroup::new(g.p(), g.g()).unwrap(), g);
        }
    }

    #[test]
    fn moduli_lines_are_checked() {
        let g14 = DhGroup::group14();
        let p: String = g14.p().iter().map(|b| format!("{b:02X}")).collect();
        let good = format!("20230101000000 2 6 100 2047 2 {p}");
        assert_eq!(parse_moduli_line(&good), Some(g14.clone()));
        // Wrong size field, composite flag, no tests, not a safe prime, even modulus.
        for bad in [
            format!("20230101000000 2 6 100 2048 2 {p}"),
            format!("20230101000000 2 7 100 2047 2 {p}"),
            format!("20230101000000 2 0 100 2047 2 {p}"),
            format!("20230101000000 4 6 100 2047 2 {p}"),
            format!("20230101000000 2 6 0 2047 2 {p}"),
            format!("20230101000000 2 6 100 2047 2 {p}0"),
            format!("20230101000000 2 6 100 2047 1 {p}"),
            format!("20230101000000 2 6 100 2047 2 {p}Z"),
            "# comment".to_string(),
            "1 2 3".to_string(),
        ] {
            assert_eq!(parse_moduli_line(&bad), None, "{bad:.60}");
        }
        let text = format!("# header\n{good}\n\ngarbage\n{good}\n");
        assert_eq!(parse_moduli(&text).len(), 2);
    }

    #[test]
    fn choice_honours_min_n_max() {
        let all = DhGroup::builtin();
        let pick = |min, n, max| choose_group(&all, min, n, max, |_| 0).map(DhGroup::bits);
        assert_eq!(pick(2048, 2048, 8192), Some(2048));
        assert_eq!(pick(2048, 3000, 8192), Some(3072));
        assert_eq!(pick(2048, 7680, 8192), Some(8192));
        assert_eq!(pick(2048, 8192, 6144), Some(6144)); // none >= n: the largest <= max
        assert_eq!(pick(4096, 4096, 4096), Some(4096));
        assert_eq!(pick(5000, 5000, 5000), None);
    }

    #[test]
    fn requests_accept_and_choose_within_their_bounds() {
        let all = DhGroup::builtin();
        let req = GroupRequest {
            min: 3072,
            n: 4000,
            max: 6144,
        };
        let mut rng = rand_core::OsRng;
        assert_eq!(req.choose(&all, &mut rng).map(DhGroup::bits), Some(4096));
        assert!(req.accepts(&DhGroup::group16()));
        assert!(!req.accepts(&DhGroup::group14()));
        assert!(!req.accepts(&DhGroup::group18()));
        assert!(GexGroups::from_caller().get().is_none());
        assert_eq!(GexGroups::default().get().map(<[DhGroup]>::len), Some(5));
    }

    #[test]
    fn public_range() {
        let p = [0x17u8]; // 23
        assert!(!in_public_range(&[], &p));
        assert!(!in_public_range(&[1], &p));
        assert!(in_public_range(&[2], &p));
        assert!(in_public_range(&[21], &p));
        assert!(!in_public_range(&[22], &p));
        assert!(!in_public_range(&[0, 23], &p));
    }
}
