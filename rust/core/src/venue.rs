//! Venues: the kinds arbhybrid has adapters for, and the named instances a configuration
//! trades on.
//!
//! A [`VenueKind`] is a protocol family (MEXC spot, Gate spot): it picks the adapter. A
//! [`Venue`] is one configured instance of a kind — `mexc`, `gateio`, or a second MEXC
//! account named `mexc_b` — with its own keys, connections, books and balances. Instances
//! are interned process-wide (names to small ids) so a `Venue` is a one-byte `Copy` value
//! that indexes per-venue tables on the hot path ([`VenueMap`]), prints as its name, and
//! never needs a table threaded through every call. The default instance of each kind is
//! named after the kind and always registered.

use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};

/// A protocol family with an adapter in each layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VenueKind {
    Mexc,
    Gate,
}

impl VenueKind {
    pub const ALL: [VenueKind; 2] = [VenueKind::Mexc, VenueKind::Gate];

    /// The kind's configuration name (`mexc`, `gateio`), also its default instance's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            VenueKind::Mexc => "mexc",
            VenueKind::Gate => "gateio",
        }
    }

    /// The default instance of this kind (named after it): registered first, at the
    /// kind's position in [`VenueKind::ALL`].
    pub const fn default_venue(self) -> Venue {
        Venue(self as u8)
    }
}

impl fmt::Display for VenueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown venue kind; carries the name that was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown venue kind {0:?} (expected \"mexc\" or \"gateio\")")]
pub struct UnknownKind(pub String);

impl FromStr for VenueKind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        // Gate's other spellings, as users and ccxt write it.
        let name = match lower.as_str() {
            "gate" | "gate.io" => "gateio",
            other => other,
        };
        VenueKind::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

/// One configured venue instance: an interned id into the process-wide registry.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Venue(u8);

/// How many venue instances one process can register.
pub const MAX_VENUES: usize = 32;

struct Entry {
    name: &'static str,
    kind: VenueKind,
}

/// Registered instances; slot i holds `Venue(i)`. Read without a lock (the hot path asks
/// a venue's kind), written under `REGISTER`.
static SLOTS: [OnceLock<Entry>; MAX_VENUES] = [const { OnceLock::new() }; MAX_VENUES];
static REGISTER: Mutex<()> = Mutex::new(());

fn slot(i: usize) -> Option<&'static Entry> {
    if i < VenueKind::ALL.len() {
        // The default instances exist before anything registers.
        let kind = VenueKind::ALL[i];
        return Some(SLOTS[i].get_or_init(|| Entry {
            name: kind.as_str(),
            kind,
        }));
    }
    SLOTS.get(i).and_then(OnceLock::get)
}

/// Why a venue instance could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VenueError {
    #[error(
        "venue name {0:?} is not valid: 1 to 24 characters of a-z, 0-9 and _, starting with a letter"
    )]
    BadName(String),
    #[error("venue {name:?} is already registered as kind {existing}, not {wanted}")]
    KindConflict {
        name: String,
        existing: VenueKind,
        wanted: VenueKind,
    },
    #[error("too many venues: at most {MAX_VENUES} per process")]
    Full,
}

impl Venue {
    /// The default MEXC instance, `mexc`.
    pub const MEXC: Venue = Venue(0);
    /// The default Gate instance, `gateio`.
    pub const GATE: Venue = Venue(1);

    /// Registers (or finds) the instance `name` of `kind`. Registering a name again with
    /// the same kind returns the same venue; with another kind it is an error.
    pub fn register(name: &str, kind: VenueKind) -> Result<Venue, VenueError> {
        let valid = !name.is_empty()
            && name.len() <= 24
            && name.as_bytes()[0].is_ascii_lowercase()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        // The kinds' aliases name their default instances.
        let canonical = match name.parse::<VenueKind>() {
            Ok(k) => k.as_str(),
            Err(_) if valid => name,
            Err(_) => return Err(VenueError::BadName(name.to_string())),
        };
        let _guard = REGISTER.lock().unwrap_or_else(|e| e.into_inner());
        #[allow(clippy::needless_range_loop)] // slot(i) also seeds the defaults
        for i in 0..MAX_VENUES {
            match slot(i) {
                Some(e) if e.name == canonical => {
                    return if e.kind == kind {
                        Ok(Venue(i as u8))
                    } else {
                        Err(VenueError::KindConflict {
                            name: canonical.to_string(),
                            existing: e.kind,
                            wanted: kind,
                        })
                    };
                }
                Some(_) => {}
                None => {
                    // Interned for the process's life: a handful of names, never freed.
                    let name: &'static str = Box::leak(canonical.to_string().into_boxed_str());
                    let _ = SLOTS[i].set(Entry { name, kind });
                    return Ok(Venue(i as u8));
                }
            }
        }
        Err(VenueError::Full)
    }

    /// The configured instance `name` of `kind` (by default the kind `name` names), as
    /// a configuration declares it: registers it.
    ///
    /// # Errors
    /// An unknown kind, no kind for a name that is not a kind's, a bad name, or a name
    /// already registered with another kind — each naming the venue.
    pub fn configure(name: &str, kind: Option<&str>) -> Result<Venue, String> {
        let kind = match kind {
            Some(k) => k
                .parse::<VenueKind>()
                .map_err(|e| format!("venue {name:?}: {e}"))?,
            None => name
                .parse::<VenueKind>()
                .map_err(|_| format!("venue {name:?}: no kind given (kind: mexc | gateio)"))?,
        };
        Venue::register(name, kind).map_err(|e| e.to_string())
    }

    /// The registered instance called `name` (the kinds' aliases `gate` and `gate.io`
    /// name `gateio`).
    pub fn named(name: &str) -> Option<Venue> {
        // The exact name first, without allocating (callers on hot paths pass it so).
        if let Some(i) = (0..MAX_VENUES).map_while(slot).position(|e| e.name == name) {
            return Some(Venue(i as u8));
        }
        let lower = name.to_ascii_lowercase();
        let canonical: &str = match lower.parse::<VenueKind>() {
            Ok(k) => k.as_str(),
            Err(_) => &lower,
        };
        (0..MAX_VENUES)
            .map_while(slot)
            .position(|e| e.name == canonical)
            .map(|i| Venue(i as u8))
    }

    /// Every registered instance, in registration order (the defaults first).
    pub fn registered() -> Vec<Venue> {
        (0..MAX_VENUES)
            .map_while(slot)
            .enumerate()
            .map(|(i, _)| Venue(i as u8))
            .collect()
    }

    fn entry(self) -> &'static Entry {
        // A `Venue` is only made by registration, so its slot is set.
        slot(self.0 as usize).expect("a Venue exists only once registered")
    }

    /// The instance's configuration / display name (`mexc`, `gateio`, `mexc_b`).
    pub fn as_str(self) -> &'static str {
        self.entry().name
    }

    /// The protocol family: which adapter serves this instance.
    pub fn kind(self) -> VenueKind {
        self.entry().kind
    }

    /// A small dense index (below [`MAX_VENUES`]) for per-venue tables.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown venue name; carries the name that was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown venue {0:?} (configured: {list})", list = Venue::registered().iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "))]
pub struct UnknownVenue(pub String);

impl FromStr for Venue {
    type Err = UnknownVenue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Venue::named(s).ok_or_else(|| UnknownVenue(s.to_string()))
    }
}

impl serde::Serialize for Venue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Deserializes a configured venue: a name (registered already, or a kind's name) or
/// `{name, kind}` (registered here). For `#[serde(deserialize_with = ...)]` on the
/// fields that declare a venue; plain `Venue` fields accept registered names only.
pub fn configured<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Venue, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Form {
        Name(String),
        Full {
            name: String,
            #[serde(default)]
            kind: Option<String>,
        },
    }
    let (name, kind) = match <Form as serde::Deserialize>::deserialize(d)? {
        Form::Name(n) => (n, None),
        Form::Full { name, kind } => (name, kind),
    };
    match (Venue::named(&name), &kind) {
        (Some(v), None) => Ok(v),
        _ => Venue::configure(&name, kind.as_deref()).map_err(serde::de::Error::custom),
    }
}

impl<'de> serde::Deserialize<'de> for Venue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// A table with at most one value per venue, indexed by [`Venue::index`]: a bounds check
/// and a tag test on the hot path, no hashing.
#[derive(Clone, PartialEq, Eq)]
pub struct VenueMap<T> {
    slots: Vec<Option<T>>,
}

impl<T> Default for VenueMap<T> {
    fn default() -> Self {
        VenueMap { slots: Vec::new() }
    }
}

impl<T: fmt::Debug> fmt::Debug for VenueMap<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<T> VenueMap<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// One value per venue of `venues`, made by `f`.
    pub fn from_fn(venues: impl IntoIterator<Item = Venue>, mut f: impl FnMut(Venue) -> T) -> Self {
        let mut m = Self::new();
        for v in venues {
            m.insert(v, f(v));
        }
        m
    }

    #[inline]
    pub fn get(&self, v: Venue) -> Option<&T> {
        self.slots.get(v.index()).and_then(Option::as_ref)
    }

    #[inline]
    pub fn get_mut(&mut self, v: Venue) -> Option<&mut T> {
        self.slots.get_mut(v.index()).and_then(Option::as_mut)
    }

    pub fn contains(&self, v: Venue) -> bool {
        self.get(v).is_some()
    }

    /// Sets `v`'s value, returning the previous one.
    pub fn insert(&mut self, v: Venue, value: T) -> Option<T> {
        let i = v.index();
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, || None);
        }
        self.slots[i].replace(value)
    }

    /// `v`'s value, made by `f` if absent.
    pub fn get_or_insert_with(&mut self, v: Venue, f: impl FnOnce() -> T) -> &mut T {
        if !self.contains(v) {
            self.insert(v, f());
        }
        self.get_mut(v).expect("just inserted")
    }

    pub fn remove(&mut self, v: Venue) -> Option<T> {
        self.slots.get_mut(v.index()).and_then(Option::take)
    }

    /// The venues with a value, in index order.
    pub fn venues(&self) -> impl Iterator<Item = Venue> + '_ {
        self.iter().map(|(v, _)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (Venue, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|t| (Venue(i as u8), t)))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Venue, &mut T)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| s.as_mut().map(|t| (Venue(i as u8), t)))
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(Option::as_ref)
    }

    pub fn len(&self) -> usize {
        self.values().count()
    }

    pub fn is_empty(&self) -> bool {
        self.values().next().is_none()
    }
}

impl<T> FromIterator<(Venue, T)> for VenueMap<T> {
    fn from_iter<I: IntoIterator<Item = (Venue, T)>>(iter: I) -> Self {
        let mut m = Self::new();
        for (v, t) in iter {
            m.insert(v, t);
        }
        m
    }
}

impl<T> std::ops::Index<Venue> for VenueMap<T> {
    type Output = T;
    /// Panics when `v` has no value: for tables built over every venue they are used with.
    fn index(&self, v: Venue) -> &T {
        self.get(v)
            .unwrap_or_else(|| panic!("no entry for venue {v} in this table"))
    }
}

impl<T> std::ops::IndexMut<Venue> for VenueMap<T> {
    fn index_mut(&mut self, v: Venue) -> &mut T {
        self.get_mut(v)
            .unwrap_or_else(|| panic!("no entry for venue {v} in this table"))
    }
}

/// One direction of a cross-venue trade: buy the base on `buy`, sell it on `sell`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    pub buy: Venue,
    pub sell: Venue,
}

impl Route {
    /// The leg's counterpart: the sell venue for the buy venue and back. `None` for a
    /// venue that is not on this route.
    pub fn other(self, v: Venue) -> Option<Venue> {
        if v == self.buy {
            Some(self.sell)
        } else if v == self.sell {
            Some(self.buy)
        } else {
            None
        }
    }

    /// Every ordered pair of distinct venues of `venues`.
    pub fn all(venues: &[Venue]) -> impl Iterator<Item = Route> + '_ {
        venues.iter().flat_map(move |&buy| {
            venues
                .iter()
                .filter(move |&&sell| sell != buy)
                .map(move |&sell| Route { buy, sell })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in VenueKind::ALL {
            let v = k.default_venue();
            assert_eq!(v.kind(), k);
            assert_eq!(v.as_str(), k.as_str());
            assert_eq!(v.as_str().parse::<Venue>().unwrap(), v);
        }
        assert_eq!("gate".parse::<Venue>().unwrap(), Venue::GATE);
        assert_eq!("Gate.io".parse::<Venue>().unwrap(), Venue::GATE);
        assert!("binance".parse::<Venue>().is_err());
    }

    #[test]
    fn instances_register_once_per_name_and_keep_their_kind() {
        let b = Venue::register("mexc_core_test", VenueKind::Mexc).unwrap();
        assert_eq!(Venue::register("mexc_core_test", VenueKind::Mexc), Ok(b));
        assert_eq!(b.kind(), VenueKind::Mexc);
        assert_eq!(b.to_string(), "mexc_core_test");
        assert_eq!("mexc_core_test".parse::<Venue>().unwrap(), b);
        assert!(matches!(
            Venue::register("mexc_core_test", VenueKind::Gate),
            Err(VenueError::KindConflict { .. })
        ));
        assert_eq!(Venue::register("gate", VenueKind::Gate), Ok(Venue::GATE));
        for bad in ["", "Mexc B", "1x", "a-b", "x".repeat(25).as_str()] {
            assert!(
                matches!(
                    Venue::register(bad, VenueKind::Mexc),
                    Err(VenueError::BadName(_))
                ),
                "{bad:?}"
            );
        }
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(json, "\"mexc_core_test\"");
        assert_eq!(serde_json::from_str::<Venue>(&json).unwrap(), b);
        assert!(serde_json::from_str::<Venue>("\"nowhere\"").is_err());
    }

    #[test]
    fn maps_and_routes() {
        let c = Venue::register("gate_core_test", VenueKind::Gate).unwrap();
        let venues = [Venue::MEXC, Venue::GATE, c];
        let m = VenueMap::from_fn(venues, |v| v.as_str().len());
        assert_eq!(m[c], "gate_core_test".len());
        assert_eq!(m.venues().collect::<Vec<_>>(), venues);
        assert_eq!(
            m.get(Venue::register("other_core_test", VenueKind::Mexc).unwrap()),
            None
        );
        let routes: Vec<Route> = Route::all(&venues).collect();
        assert_eq!(routes.len(), 6);
        let r = Route {
            buy: Venue::MEXC,
            sell: c,
        };
        assert_eq!(r.other(Venue::MEXC), Some(c));
        assert_eq!(r.other(c), Some(Venue::MEXC));
        assert_eq!(r.other(Venue::GATE), None);
    }
}
