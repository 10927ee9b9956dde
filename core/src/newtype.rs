//! The impls every checked string type of core shares (option values, Bitbucket names): the
//! value can only be made by its `parse`, and reads back as text.

/// Defines `FromStr` for a type with a `parse(&str) -> Result<Self>`.
macro_rules! from_str_by_parse {
    ($name:ident) => {
        impl ::std::str::FromStr for $name {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                Self::parse(s)
            }
        }
    };
}

/// Defines `as_str`, `Display`, `AsRef<str>` and `FromStr` for a string newtype with a `parse`.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        $crate::newtype::from_str_by_parse!($name);
    };
}

pub(crate) use {from_str_by_parse, string_newtype};
