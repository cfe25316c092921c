//! Strings kept inline when short: a set of 100,000 policies holds a name
//! per policy and a value per `key=value` action, most of them a few bytes
//! long; a heap allocation for each costs 32 bytes of the allocator's
//! chunk on top of the pointer.

use std::fmt;

macro_rules! inline_str {
    ($(#[$doc:meta])* $name:ident, $n:expr, $heap:ty) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(Repr);

        #[derive(Clone)]
        enum Repr {
            Inline { len: u8, buf: [u8; $n] },
            Heap($heap),
        }

        impl $name {
            /// Bytes kept inline (longer strings are boxed).
            pub const INLINE: usize = $n;

            /// The string.
            #[inline]
            pub fn as_str(&self) -> &str {
                match &self.0 {
                    // Built from a `&str` (`From`), so always valid UTF-8.
                    Repr::Inline { len, buf } => {
                        std::str::from_utf8(buf.get(..*len as usize).unwrap_or(&[]))
                            .unwrap_or_default()
                    }
                    Repr::Heap(s) => s.as_ref(),
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                if s.len() <= $n {
                    let mut buf = [0u8; $n];
                    if let Some(dst) = buf.get_mut(..s.len()) {
                        dst.copy_from_slice(s.as_bytes());
                    }
                    $name(Repr::Inline {
                        len: s.len() as u8,
                        buf,
                    })
                } else {
                    $name(Repr::Heap(Box::<str>::from(s).into()))
                }
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            #[inline]
            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &$name) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Eq for $name {}

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
                self.as_str().hash(h)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self.as_str(), f)
            }
        }
    };
}

pub(crate) mod name {
    use super::*;
    inline_str!(
        /// A policy name: up to 22 bytes inline, 24 bytes in all.
        ShortName,
        22,
        Box<str>
    );
}

pub(crate) mod value {
    use super::*;
    inline_str!(
        /// An action value: up to 14 bytes inline, 16 bytes in all (longer
        /// values behind a thin pointer, so that the enum around it stays
        /// 16 bytes too).
        InlineStr,
        14,
        Box<Box<str>>
    );
}

pub use name::ShortName;
pub use value::InlineStr;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_round_trip() {
        assert_eq!(std::mem::size_of::<ShortName>(), 24);
        assert_eq!(std::mem::size_of::<InlineStr>(), 16);
        assert_eq!(std::mem::size_of::<Option<InlineStr>>(), 16);
        for s in [
            "",
            "a",
            "pol1234",
            "ääää",
            "exactly-22-bytes-long!",
            "longer than twenty-two bytes",
        ] {
            assert_eq!(ShortName::from(s).as_str(), s);
            assert_eq!(&*InlineStr::from(s), s);
            assert_eq!(format!("{}", InlineStr::from(s)), s);
            assert_eq!(format!("{:?}", ShortName::from(s)), format!("{s:?}"));
        }
        assert_eq!(InlineStr::from("x"), InlineStr::from("x"));
        assert_ne!(InlineStr::from("x"), InlineStr::from("y"));
        assert_eq!(
            InlineStr::from(&*"z".repeat(40)),
            InlineStr::from(&*"z".repeat(40))
        );
    }
}
