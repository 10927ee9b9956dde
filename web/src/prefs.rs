//! What the page remembers in this browser's localStorage: the colour theme and the diff's
//! layout. Nothing else is stored (the token never is).

use leptos::prelude::*;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

fn save(key: &str, value: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(key, value);
    }
}

/// A choice among a few, kept under one localStorage key.
pub trait Preference: Copy + PartialEq + Send + Sync + 'static {
    const KEY: &'static str;
    const ALL: &'static [Self];
    fn name(self) -> &'static str;

    fn saved() -> Self {
        let saved = load(Self::KEY);
        Self::ALL
            .iter()
            .copied()
            .find(|p| Some(p.name()) == saved.as_deref())
            .unwrap_or(Self::ALL[0])
    }

    fn next(self) -> Self {
        let index = Self::ALL.iter().position(|p| *p == self).unwrap_or(0);
        Self::ALL[(index + 1) % Self::ALL.len()]
    }

    fn save(self) {
        save(Self::KEY, self.name());
    }
}

/// The colour theme: Auto follows the system's `prefers-color-scheme` (live, in the CSS).
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Theme {
    Auto,
    Dark,
    Light,
}

impl Preference for Theme {
    const KEY: &'static str = "fluxstrap.theme";
    const ALL: &'static [Self] = &[Theme::Auto, Theme::Dark, Theme::Light];
    fn name(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Dark => "dark",
            Theme::Light => "light",
        }
    }
}

impl Theme {
    pub fn label(self) -> &'static str {
        match self {
            Theme::Auto => "Theme: Auto",
            Theme::Dark => "Theme: Dark",
            Theme::Light => "Theme: Light",
        }
    }

    /// Sets `data-theme` on the document (none for Auto, so the media query decides).
    pub fn apply(self) {
        let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        else {
            return;
        };
        let _ = match self {
            Theme::Auto => root.remove_attribute("data-theme"),
            theme => root.set_attribute("data-theme", theme.name()),
        };
    }
}

/// How a diff is laid out.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum DiffLayout {
    Unified,
    Split,
}

impl Preference for DiffLayout {
    const KEY: &'static str = "fluxstrap.diff-layout";
    const ALL: &'static [Self] = &[DiffLayout::Unified, DiffLayout::Split];
    fn name(self) -> &'static str {
        match self {
            DiffLayout::Unified => "unified",
            DiffLayout::Split => "split",
        }
    }
}

/// Whether a diff's unchanged regions are folded.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Folding {
    Collapsed,
    Expanded,
}

impl Preference for Folding {
    const KEY: &'static str = "fluxstrap.diff-folding";
    const ALL: &'static [Self] = &[Folding::Collapsed, Folding::Expanded];
    fn name(self) -> &'static str {
        match self {
            Folding::Collapsed => "collapsed",
            Folding::Expanded => "expanded",
        }
    }
}

/// A preference as a signal, saved whenever it changes.
pub fn signal<P: Preference>() -> RwSignal<P> {
    let value = RwSignal::new(P::saved());
    Effect::new(move |_| value.get().save());
    value
}
