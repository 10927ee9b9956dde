//! "Download zip": the previewed files as one archive, made by fflate in `/zip.js` (esbuild's
//! bundle of `web/js/zip-entry.js`), which is imported on the first press only.

use wasm_bindgen::prelude::*;

use crate::release::GeneratedFile;

#[wasm_bindgen(inline_js = r#"
export function download_zip(fileName, names, contents) {
  return import('/zip.js').then((module) => module.downloadZip(fileName, names, contents));
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = download_zip)]
    fn download_zip_js(
        file_name: &str,
        names: js_sys::Array,
        contents: js_sys::Array,
    ) -> js_sys::Promise;
}

/// Offers `files` (at their paths in the repository) as `fluxstrap-files.zip`.
pub fn download(files: &[GeneratedFile]) {
    let names: js_sys::Array = files.iter().map(|f| JsValue::from_str(&f.path)).collect();
    let contents: js_sys::Array = files
        .iter()
        .map(|f| JsValue::from_str(&f.content))
        .collect();
    // A failed import (the server gone) leaves nothing to clean up; the button can be pressed again.
    let _ = download_zip_js("fluxstrap-files.zip", names, contents);
}
